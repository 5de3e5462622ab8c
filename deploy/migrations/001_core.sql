-- The read models built by the timeline projection. Everything here can be rebuilt from
-- the log (npm run replay); nothing here is the truth.

CREATE TABLE conversations (
  id               text PRIMARY KEY,
  partition        int NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('direct', 'group')),
  title            text,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL,
  -- "<userA>\n<userB>" sorted, so that a direct pair maps to one conversation
  direct_key       text UNIQUE,
  last_seq         bigint NOT NULL,
  -- dense message counter: unread = message_count - members.read_count
  message_count    bigint NOT NULL DEFAULT 0,
  member_count     int NOT NULL,
  last_activity_at timestamptz NOT NULL,
  last_message     jsonb
);

CREATE TABLE members (
  conversation_id text NOT NULL,
  user_id         text NOT NULL,
  joined_seq      bigint NOT NULL,
  last_read_seq   bigint NOT NULL DEFAULT 0,
  -- the dense number of the last message at or below last_read_seq
  read_count      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id, conversation_id);

-- Every visible conversation event, as the client sees it (payload = PROTOCOL.md Event).
CREATE TABLE timeline (
  conversation_id text NOT NULL,
  seq             bigint NOT NULL,
  partition       int NOT NULL,
  kind            text NOT NULL,
  message_no      bigint,
  payload         jsonb NOT NULL,
  at              timestamptz NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX timeline_messages ON timeline (conversation_id, seq) WHERE kind = 'message';

-- (sender, clientMsgId) -> seq, kept forever: a resend long after JetStream's duplicate
-- window still finds its original.
CREATE TABLE client_msg_ids (
  sender_id       text NOT NULL,
  client_msg_id   text NOT NULL,
  conversation_id text NOT NULL,
  seq             bigint NOT NULL,
  sent_at         timestamptz NOT NULL,
  PRIMARY KEY (sender_id, client_msg_id)
);

-- Push fan-out: one row per member and event; sync reads a user's rows past its cursor.
CREATE TABLE inbox (
  user_id         text NOT NULL,
  partition       int NOT NULL,
  seq             bigint NOT NULL,
  conversation_id text NOT NULL,
  PRIMARY KEY (user_id, partition, seq)
);

-- Committed in the same transaction as the rows above: everything at or below last_seq
-- of a partition is in the read models.
CREATE TABLE checkpoints (
  projection text NOT NULL,
  partition  int NOT NULL,
  last_seq   bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, partition)
);

-- Events the rules refused at their place in the log (or could not read): kept so that
-- an operator can see why something a gateway acknowledged is not shown.
CREATE TABLE rejected_events (
  partition       int NOT NULL,
  seq             bigint NOT NULL,
  conversation_id text,
  code            text NOT NULL,
  reason          text NOT NULL,
  PRIMARY KEY (partition, seq)
);
