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
  -- dense message counter: messages after a member's marker = message_count - members.read_count
  message_count    bigint NOT NULL DEFAULT 0,
  member_count     int NOT NULL,
  last_activity_at timestamptz NOT NULL,
  last_message     jsonb,
  -- has any event of this conversation been left to the timeline (pull fan-out)?
  ever_pulled      boolean NOT NULL DEFAULT false,
  -- slow mode (0: off) and the seq of the event that set it: each member's last send after
  -- it (timeline_senders) is what the rules compare a send with
  slow_mode_seconds int NOT NULL DEFAULT 0,
  slow_mode_seq    bigint
);

-- Current members.
CREATE TABLE members (
  conversation_id text NOT NULL,
  user_id         text NOT NULL,
  joined_seq      bigint NOT NULL,
  last_read_seq   bigint NOT NULL DEFAULT 0,
  -- the dense number of the last message at or below last_read_seq
  read_count      bigint NOT NULL DEFAULT 0,
  -- the member's own notification setting (conversation:notify); a member added back
  -- starts from the default again
  notify_level    text NOT NULL DEFAULT 'all' CHECK (notify_level IN ('all', 'mentions', 'none')),
  mute_until      timestamptz,
  -- a group's moderators (its owner is conversations.created_by) and muted members: the
  -- mute's seq and end (NULL: until unmuted). A member added back starts as a member, unmuted.
  role            text NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'moderator')),
  muted_seq       bigint,
  muted_until     timestamptz,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id, conversation_id);
-- The few members a conversation's rules single out, read with the conversation.
CREATE INDEX members_moderation ON members (conversation_id) WHERE role <> 'member' OR muted_seq IS NOT NULL;

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

-- Every visible conversation event, as the client sees it (payload = docs/protocol.md Event,
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
  -- the seq of the last event that changed payload after the row was first folded (an
  -- edit, delete or reaction of the message; the delete that emptied an edit's body);
  -- NULL: as the event made it. Sync shows a changed row only to a user who was a member
  -- at that seq or later: a removed member never reads what happened after it left.
  changed_seq     bigint,
  PRIMARY KEY (conversation_id, seq, at)
) PARTITION BY RANGE (at);
CREATE TABLE timeline_default PARTITION OF timeline DEFAULT;
CREATE INDEX timeline_messages ON timeline (conversation_id, seq) WHERE kind = 'message';
CREATE INDEX timeline_pulled ON timeline (conversation_id, seq) WHERE pulled;
CREATE INDEX timeline_targets ON timeline (conversation_id, target_seq) WHERE target_seq IS NOT NULL;
-- A member's own messages after its read marker, which its unread count leaves out
-- (UNREAD in libs/storage/src/unread.ts): a range of this index. One more index entry per
-- message: 200 commit_batch calls of 500 messages (5 members each) took as long with it
-- as without, within the noise between runs (ratios 0.94 to 1.03 in three rounds).
CREATE INDEX timeline_senders ON timeline (conversation_id, (payload->>'senderId'), seq) WHERE kind = 'message';
-- A thread's replies in seq order (history with threadRootSeq). The main timeline reads
-- timeline_messages and skips the replies it meets: an index of its own would cost every
-- message one more entry, to save reading the replies of thread-heavy conversations.
CREATE INDEX timeline_replies ON timeline (conversation_id, ((payload->>'threadRootSeq')::bigint), seq)
  WHERE kind = 'message' AND payload ? 'threadRootSeq';

-- Who each message mentions (never its sender), for every tier: unreadMentions is the
-- number of these past the member's marker, derived like unread. A deleted message's rows
-- go with it.
CREATE TABLE mentions (
  conversation_id text NOT NULL,
  user_id         text NOT NULL,
  seq             bigint NOT NULL,
  PRIMARY KEY (conversation_id, user_id, seq)
);

-- Attachments of deleted messages whose S3 objects are still to delete: the archiver
-- deletes the objects (idempotently), then these rows and the attachments' own rows in
-- public. A replay writes them again; deleting again what is gone is harmless.
CREATE TABLE attachment_deletions (
  attachment_id   text PRIMARY KEY,
  conversation_id text NOT NULL,
  -- the MessageDeleted event's
  seq             bigint NOT NULL
);

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

-- Messages members reported to the operators (GET /v1/admin/reports); members never see
-- them. One report per member and message: a second one keeps the first.
CREATE TABLE reports (
  conversation_id text NOT NULL,
  -- the MessageReported event's
  seq             bigint NOT NULL,
  target_seq      bigint NOT NULL,
  reported_by     text NOT NULL,
  reason          text NOT NULL,
  reported_at     timestamptz NOT NULL,
  PRIMARY KEY (conversation_id, seq),
  UNIQUE (conversation_id, target_seq, reported_by)
);
-- newest first (GET /v1/admin/reports), read backwards
CREATE INDEX reports_by_time ON reports (reported_at, conversation_id, seq);

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



-- One batch of the projector, written in one statement (one round trip): the rows the
-- batch computed (`doc`: ProjectionWrites as JSON, see ProjectionRepository.commit, which
-- leaves out empty lists) and its checkpoint, in the statement's own transaction, so the
-- commit still waits for the WAL flush. Raises CK001 when another writer moved the
-- checkpoint past the batch's start, and CK002 (the [sender, clientMsgId] pairs in
-- DETAIL) when a send of the batch was projected before: the projector then folds the
-- batch again knowing those are copies.
CREATE FUNCTION commit_batch(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  part int := (doc->>'partition')::int;
  copies jsonb;
BEGIN
  IF doc ? 'swapLock' THEN
    -- A rebuild swaps the schema between two batches, never during one.
    PERFORM pg_advisory_xact_lock_shared((doc->>'swapLock')::bigint);
  END IF;
  UPDATE checkpoints SET last_seq = (doc->>'toSeq')::bigint, updated_at = now()
   WHERE projection = doc->>'projection' AND partition = part AND last_seq <= (doc->>'fromSeq')::bigint;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'checkpoint of partition % is no longer %', part, doc->>'fromSeq' USING ERRCODE = 'CK001';
  END IF;

  IF doc ? 'clientMsgIds' THEN
    -- The batch was folded without reading client_msg_ids: a copy of a send in the log
    -- (a resend past JetStream's duplicate window) is rare, and found here.
    WITH sends AS (
      SELECT * FROM jsonb_to_recordset(doc->'clientMsgIds')
        AS x("senderId" text, "clientMsgId" text, "conversationId" text, seq bigint, "sentAt" timestamptz)
    ), ins AS (
      INSERT INTO client_msg_ids (sender_id, client_msg_id, conversation_id, seq, sent_at)
      SELECT * FROM sends ON CONFLICT DO NOTHING RETURNING sender_id, client_msg_id
    )
    SELECT jsonb_agg(jsonb_build_array(s."senderId", s."clientMsgId")) INTO copies FROM sends s
     WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.sender_id = s."senderId" AND ins.client_msg_id = s."clientMsgId");
    IF copies IS NOT NULL THEN
      RAISE EXCEPTION 'sends projected before' USING ERRCODE = 'CK002', DETAIL = copies::text;
    END IF;
  END IF;

  IF doc ? 'conversations' THEN
    INSERT INTO conversations (id, partition, kind, title, created_by, created_at, direct_key, last_seq,
                               message_count, member_count, last_activity_at, last_message, ever_pulled,
                               slow_mode_seconds, slow_mode_seq)
    -- A pair's key goes to its first conversation. A second one (two gateways deriving
    -- ids with different keys created the pair at once: a CHAT_ID_SECRET change, a rolling
    -- upgrade) is kept without it rather than stopping the partition on the unique index;
    -- creates find the first. Across partitions the loser's commit fails once on the index
    -- and its retry takes this branch.
    SELECT id, part, kind, title, "createdBy", "createdAt",
           CASE WHEN "directKey" IS NULL THEN NULL
                WHEN EXISTS (SELECT 1 FROM conversations o WHERE o.direct_key = x."directKey" AND o.id <> x.id) THEN NULL
                ELSE "directKey" END,
           "lastSeq", "messageCount", "memberCount", COALESCE("lastActivityAt", "createdAt"), "lastMessage", "everPulled",
           COALESCE("slowModeSeconds", 0), "slowModeSeq"
      FROM jsonb_to_recordset(doc->'conversations')
        AS x(id text, kind text, title text, "createdBy" text, "createdAt" timestamptz, "directKey" text, "lastSeq" bigint,
             "messageCount" bigint, "memberCount" int, "lastActivityAt" timestamptz, "lastMessage" jsonb, "everPulled" boolean,
             "slowModeSeconds" int, "slowModeSeq" bigint)
    ON CONFLICT (id) DO UPDATE SET
      ever_pulled = conversations.ever_pulled OR excluded.ever_pulled,
      last_seq = excluded.last_seq, message_count = excluded.message_count,
      member_count = excluded.member_count,
      slow_mode_seconds = excluded.slow_mode_seconds, slow_mode_seq = excluded.slow_mode_seq,
      last_activity_at = GREATEST(conversations.last_activity_at, excluded.last_activity_at),
      last_message = COALESCE(excluded.last_message, conversations.last_message);
  END IF;

  -- Deletes before inserts: a user removed and added back within the batch gets a fresh row.
  IF doc ? 'memberDeletes' THEN
    DELETE FROM members m USING jsonb_to_recordset(doc->'memberDeletes') AS x("conversationId" text, "userId" text)
     WHERE m.conversation_id = x."conversationId" AND m.user_id = x."userId";
  END IF;
  IF doc ? 'memberInserts' THEN
    INSERT INTO members (conversation_id, user_id, joined_seq)
    SELECT * FROM jsonb_to_recordset(doc->'memberInserts') AS x("conversationId" text, "userId" text, "joinedSeq" bigint)
    ON CONFLICT DO NOTHING;
  END IF;

  IF doc ? 'notifySettings' THEN
    UPDATE members m SET notify_level = x.level, mute_until = x."muteUntil"
      FROM jsonb_to_recordset(doc->'notifySettings') AS x("conversationId" text, "userId" text, level text, "muteUntil" timestamptz)
     WHERE m.conversation_id = x."conversationId" AND m.user_id = x."userId";
  END IF;

  IF doc ? 'memberModeration' THEN
    -- Roles and mutes as the batch leaves them, after the member rows (a member added back
    -- in the batch has its fresh row).
    UPDATE members m SET role = x.role, muted_seq = x."mutedSeq", muted_until = x."mutedUntil"
      FROM jsonb_to_recordset(doc->'memberModeration')
        AS x("conversationId" text, "userId" text, role text, "mutedSeq" bigint, "mutedUntil" timestamptz)
     WHERE m.conversation_id = x."conversationId" AND m.user_id = x."userId";
  END IF;

  IF doc ? 'reports' THEN
    INSERT INTO reports (conversation_id, seq, target_seq, reported_by, reason, reported_at)
    SELECT * FROM jsonb_to_recordset(doc->'reports')
      AS x("conversationId" text, seq bigint, "targetSeq" bigint, "reportedBy" text, reason text, "reportedAt" timestamptz)
    ON CONFLICT DO NOTHING;
  END IF;

  IF doc ? 'mentions' THEN
    INSERT INTO mentions (conversation_id, user_id, seq)
    SELECT * FROM jsonb_to_recordset(doc->'mentions') AS x("conversationId" text, "userId" text, seq bigint)
    ON CONFLICT DO NOTHING;
  END IF;
  IF doc ? 'attachmentDeletions' THEN
    INSERT INTO attachment_deletions (attachment_id, conversation_id, seq)
    SELECT "attachmentId", "conversationId", seq FROM jsonb_to_recordset(doc->'attachmentDeletions') AS x("conversationId" text, "attachmentId" text, seq bigint)
    ON CONFLICT DO NOTHING;
  END IF;
  IF doc ? 'mentionDeletes' THEN
    DELETE FROM mentions x USING jsonb_to_recordset(doc->'mentionDeletes') AS d("conversationId" text, seq bigint)
     WHERE x.conversation_id = d."conversationId" AND x.seq = d.seq;
  END IF;

  IF doc ? 'timeline' THEN
    INSERT INTO timeline (conversation_id, seq, partition, kind, message_no, target_seq, pulled, payload, at, changed_seq)
    SELECT "conversationId", seq, part, kind, "messageNo", "targetSeq", pulled, payload, at, "changedSeq"
      FROM jsonb_to_recordset(doc->'timeline')
        AS x("conversationId" text, seq bigint, kind text, "messageNo" bigint, "targetSeq" bigint, pulled boolean, payload jsonb, at timestamptz,
             "changedSeq" bigint)
    ON CONFLICT DO NOTHING;
  END IF;

  IF doc ? 'messageUpdates' THEN
    -- Messages stored before the batch, folded with its edits, deletes and reactions; those
    -- already archived get a patch over their block until the archiver folds it in.
    WITH u AS (
      SELECT * FROM jsonb_to_recordset(doc->'messageUpdates') AS x("conversationId" text, seq bigint, payload jsonb, "changedSeq" bigint)
    ), hot AS (
      UPDATE timeline t SET payload = u.payload, changed_seq = u."changedSeq" FROM u
       WHERE t.conversation_id = u."conversationId" AND t.seq = u.seq
      RETURNING t.conversation_id, t.seq
    )
    INSERT INTO tier_patches (conversation_id, seq, payload)
    SELECT u."conversationId", u.seq, u.payload FROM u
     WHERE NOT EXISTS (SELECT 1 FROM hot WHERE hot.conversation_id = u."conversationId" AND hot.seq = u.seq)
    ON CONFLICT (conversation_id, seq) DO UPDATE SET payload = excluded.payload;
    UPDATE conversations c SET last_message = u.payload
      FROM jsonb_to_recordset(doc->'messageUpdates') AS u("conversationId" text, seq bigint, payload jsonb)
     WHERE c.id = u."conversationId" AND (c.last_message->>'seq')::bigint = u.seq;
  END IF;

  IF doc ? 'scrubEdits' THEN
    -- A deleted message's body is gone from its earlier edit events too.
    UPDATE timeline t SET payload = jsonb_set(t.payload, '{body}', '""'), changed_seq = x.seq
      FROM jsonb_to_recordset(doc->'scrubEdits') AS x("conversationId" text, "targetSeq" bigint, seq bigint)
     WHERE t.conversation_id = x."conversationId" AND t.target_seq = x."targetSeq" AND t.kind = 'message:edited';
  END IF;

  IF doc ? 'periodCloses' THEN
    UPDATE membership_periods p SET left_seq = x."leftSeq"
      FROM jsonb_to_recordset(doc->'periodCloses') AS x("conversationId" text, "userId" text, "leftSeq" bigint)
     WHERE p.conversation_id = x."conversationId" AND p.user_id = x."userId" AND p.left_seq IS NULL;
  END IF;
  IF doc ? 'periodInserts' THEN
    INSERT INTO membership_periods (conversation_id, user_id, joined_seq, left_seq)
    SELECT * FROM jsonb_to_recordset(doc->'periodInserts') AS x("conversationId" text, "userId" text, "joinedSeq" bigint, "leftSeq" bigint)
    ON CONFLICT DO NOTHING;
  END IF;

  IF doc ? 'readMarkers' THEN
    -- Markers move forward only, after the timeline rows so that a marker counts the
    -- batch's own messages; the dense number of the last message at or below the marker
    -- gives the messages after the marker (message_count - read_count) without counting rows.
    UPDATE members m SET last_read_seq = x.seq,
           read_count = COALESCE((SELECT t.message_no FROM timeline t
                                   WHERE t.conversation_id = x."conversationId" AND t.kind = 'message' AND t.seq <= x.seq
                                   ORDER BY t.seq DESC LIMIT 1), 0)
      FROM (SELECT "conversationId", "userId", max(seq) AS seq
              FROM jsonb_to_recordset(doc->'readMarkers') AS u("conversationId" text, "userId" text, seq bigint)
             GROUP BY 1, 2) AS x
     WHERE m.conversation_id = x."conversationId" AND m.user_id = x."userId" AND m.last_read_seq < x.seq;
  END IF;

  IF doc ? 'inbox' THEN
    INSERT INTO inbox (user_id, partition, seq, conversation_id)
    SELECT "userId", part, seq, "conversationId"
      FROM jsonb_to_recordset(doc->'inbox') AS x("userId" text, seq bigint, "conversationId" text)
    ON CONFLICT DO NOTHING;
  END IF;

  IF doc ? 'rejected' THEN
    INSERT INTO rejected_events (partition, seq, conversation_id, code, reason)
    SELECT part, seq, "conversationId", code, reason
      FROM jsonb_to_recordset(doc->'rejected') AS x(seq bigint, "conversationId" text, code text, reason text)
    ON CONFLICT DO NOTHING;
  END IF;
END;
$$;

-- Batches of several partitions in one statement and one transaction (a group commit):
-- if any of them raises, none is written, and the projector commits them one by one.
CREATE FUNCTION commit_batches(docs jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  doc jsonb;
BEGIN
  FOR doc IN SELECT value FROM jsonb_array_elements(docs) LOOP
    PERFORM commit_batch(doc);
  END LOOP;
END;
$$;
