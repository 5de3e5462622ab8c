-- Which DDL each projection schema was built with. A projection's tables live in a schema
-- of their own (named after the projection) so that a rebuild can fill a fresh copy and
-- swap it in atomically; a changed DDL file means the projection must be rebuilt.
CREATE TABLE projection_versions (
  projection text PRIMARY KEY,
  ddl_hash   text NOT NULL,
  built_at   timestamptz NOT NULL DEFAULT now()
);
