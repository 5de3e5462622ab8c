-- Users the operator blocked (POST /v1/admin/users/:userId/block): every gateway loads them
-- at start and keeps the list current from the <ns>.blocks subject; their sockets are
-- closed and every connect is refused until they are unblocked. Not derived from the log,
-- so kept in public beside the other operational tables.
CREATE TABLE blocked_users (
  user_id    text PRIMARY KEY,
  blocked_at timestamptz NOT NULL DEFAULT now()
);
