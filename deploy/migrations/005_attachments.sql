-- Files users upload for their messages (attachment:create). A row is written when the
-- upload is granted, before any byte reaches S3, so it is not derived from the log: kept in
-- public. The log holds a sent attachment's metadata in its MessageSent event; the bytes
-- are the object <ns>/attachments/<conversation_id>/<id>.
CREATE TABLE attachments (
  id              uuid PRIMARY KEY,
  conversation_id text NOT NULL,
  owner_id        text NOT NULL,
  name            text NOT NULL,
  content_type    text NOT NULL,
  size            bigint NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- the send that took it (set just before its append, so that a retry of that send may
  -- take it again and no other send can)
  client_msg_id   text,
  -- the seq of the message it was sent with, once appended
  sent_seq        bigint
);
-- The archiver's sweep of uploads never sent.
CREATE INDEX attachments_unsent ON attachments (created_at) WHERE sent_seq IS NULL;
