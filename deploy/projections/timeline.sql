-- The read models of the timeline projection. They live in a schema of their own (the
-- search_path names it), can be rebuilt from the log at any time (npm run replay --
-- timeline), and hold nothing that is not derived from the log.

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
  last_message     jsonb,
  -- has any event of this conversation been left to the timeline (pull fan-out)?
  ever_pulled      boolean NOT NULL DEFAULT false
);

-- Current members.
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

-- Every stretch of the log during which a user was a member: what sync may show it of
-- the events left to the timeline (pull), including those of conversations it has left.
CREATE TABLE membership_periods (
  conversation_id text NOT NULL,
  user_id         text NOT NULL,
  joined_seq      bigint NOT NULL,
  left_seq        bigint,
  PRIMARY KEY (conversation_id, user_id, joined_seq)
);
CREATE INDEX membership_periods_by_user ON membership_periods (user_id, conversation_id);

-- Every visible conversation event, as the client sees it (payload = PROTOCOL.md Event,
-- messages folded with their edits, deletion and reactions). This is the hot tier:
-- partitioned by month of the event's time, so that a month the archiver has emptied is
-- dropped whole; the archiver keeps partitions ready around the current month.
CREATE TABLE timeline (
  conversation_id text NOT NULL,
  seq             bigint NOT NULL,
  partition       int NOT NULL,
  kind            text NOT NULL,
  message_no      bigint,
  -- for edits, deletes and reactions: the message they change
  target_seq      bigint,
  -- left to the timeline rather than written to each member's inbox (pull fan-out)
  pulled          boolean NOT NULL DEFAULT false,
  payload         jsonb NOT NULL,
  at              timestamptz NOT NULL,
  PRIMARY KEY (conversation_id, seq, at)
) PARTITION BY RANGE (at);
CREATE TABLE timeline_default PARTITION OF timeline DEFAULT;
CREATE INDEX timeline_messages ON timeline (conversation_id, seq) WHERE kind = 'message';
CREATE INDEX timeline_pulled ON timeline (conversation_id, seq) WHERE pulled;
CREATE INDEX timeline_targets ON timeline (conversation_id, target_seq) WHERE target_seq IS NOT NULL;

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
-- for pruning rows past the sync retention
CREATE INDEX inbox_by_seq ON inbox (partition, seq);

-- Committed in the same transaction as the rows above: everything at or below last_seq
-- of a partition is in the read models.
CREATE TABLE checkpoints (
  projection text NOT NULL,
  partition  int NOT NULL,
  last_seq   bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, partition)
);

-- Inbox rows at or below a partition's horizon have been pruned: a sync cursor below it
-- cannot be served and gets a fresh snapshot (reset: true).
CREATE TABLE sync_horizon (
  partition int PRIMARY KEY,
  seq       bigint NOT NULL
);

-- Checkpoints as the pruner saw them: the newest one older than the retention is how far
-- the inbox may be pruned.
CREATE TABLE checkpoint_history (
  partition int NOT NULL,
  seq       bigint NOT NULL,
  at        timestamptz NOT NULL,
  PRIMARY KEY (partition, at)
);

-- Warm tier: compressed blocks of consecutive messages of one conversation.
CREATE TABLE warm_blocks (
  conversation_id text NOT NULL,
  first_seq       bigint NOT NULL,
  last_seq        bigint NOT NULL,
  message_count   int NOT NULL,
  codec           text NOT NULL,
  raw_bytes       int NOT NULL,
  stored_bytes    int NOT NULL,
  checksum        text NOT NULL,
  data            bytea NOT NULL,
  oldest_at       timestamptz NOT NULL,
  newest_at       timestamptz NOT NULL,
  PRIMARY KEY (conversation_id, first_seq)
);
CREATE INDEX warm_blocks_age ON warm_blocks (newest_at);

-- Cold tier: the manifest of the blocks kept as S3 objects.
CREATE TABLE cold_manifest (
  conversation_id text NOT NULL,
  first_seq       bigint NOT NULL,
  last_seq        bigint NOT NULL,
  message_count   int NOT NULL,
  key             text NOT NULL UNIQUE,
  codec           text NOT NULL,
  raw_bytes       int NOT NULL,
  stored_bytes    int NOT NULL,
  checksum        text NOT NULL,
  oldest_at       timestamptz NOT NULL,
  newest_at       timestamptz NOT NULL,
  PRIMARY KEY (conversation_id, first_seq)
);

-- Edits, deletes and reactions of messages already in a block: read over the block until
-- the archiver rewrites the block with them (and so removes a deleted body for good).
CREATE TABLE tier_patches (
  conversation_id text NOT NULL,
  seq             bigint NOT NULL,
  payload         jsonb NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);

-- Blocks whose checksum did not match when read: reported, never served.
CREATE TABLE damaged_blocks (
  tier            text NOT NULL,
  conversation_id text NOT NULL,
  first_seq       bigint NOT NULL,
  reason          text NOT NULL,
  detected_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tier, conversation_id, first_seq)
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
