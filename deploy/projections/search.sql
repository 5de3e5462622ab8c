-- The search projection: a full-text index of every message the rules accepted, whichever
-- tier holds its body now. It lives in a schema of its own (the search_path names it),
-- follows the log with durable consumers of its own, and is rebuilt from the log at any
-- time (npm run replay -- search). The index holds no body: a hit's message is read
-- through the tiers (TieredMessages), so an archived message comes from its block.

-- One row per message: its words as the `simple` configuration splits them (no stemming,
-- no stop words: a chat is many languages, and a word typed is the word searched).
CREATE TABLE messages (
  conversation_id text NOT NULL,
  seq             bigint NOT NULL,
  sent_at         timestamptz NOT NULL,
  tsv             tsvector NOT NULL,
  -- the seq of the message's last change (an edit or a reaction; NULL: as sent): a user
  -- who left before it does not find the message (it would show what happened after it
  -- left), as sync leaves out such rows (timeline.changed_seq)
  changed_seq     bigint,
  PRIMARY KEY (conversation_id, seq)
);
-- fastupdate stays on: a batch's new entries go to the pending list and are merged in
-- bulk (by autovacuum or when the list is full), instead of one posting-tree write per word.
CREATE INDEX messages_tsv ON messages USING gin (tsv);

-- Committed in the same transaction as the rows above: everything at or below last_seq of
-- a partition is in the index.
CREATE TABLE checkpoints (
  projection text NOT NULL,
  partition  int NOT NULL,
  last_seq   bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, partition)
);

-- One batch of the search projector in one statement (doc: SearchWrites as JSON): new
-- messages, then edits and other changes of messages stored before, then deletes, and
-- the checkpoint.
-- Raises CK001 when another writer moved the checkpoint past the batch's start.
CREATE FUNCTION search_commit_batch(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  part int := (doc->>'partition')::int;
BEGIN
  IF doc ? 'swapLock' THEN
    PERFORM pg_advisory_xact_lock_shared((doc->>'swapLock')::bigint);
  END IF;
  UPDATE checkpoints SET last_seq = (doc->>'toSeq')::bigint, updated_at = now()
   WHERE projection = doc->>'projection' AND partition = part AND last_seq <= (doc->>'fromSeq')::bigint;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'checkpoint of partition % is no longer %', part, doc->>'fromSeq' USING ERRCODE = 'CK001';
  END IF;
  IF doc ? 'inserts' THEN
    -- A redelivered batch writes the same rows again: the conflict keeps the later text.
    INSERT INTO messages (conversation_id, seq, sent_at, tsv, changed_seq)
    SELECT "conversationId", seq, at, to_tsvector('simple', body), "changedSeq"
      FROM jsonb_to_recordset(doc->'inserts') AS x("conversationId" text, seq bigint, at timestamptz, body text, "changedSeq" bigint)
    ON CONFLICT (conversation_id, seq) DO UPDATE SET tsv = excluded.tsv, changed_seq = excluded.changed_seq;
  END IF;
  IF doc ? 'edits' THEN
    -- body NULL: a change that leaves the words as they are (a reaction).
    UPDATE messages m SET tsv = COALESCE(to_tsvector('simple', x.body), m.tsv), changed_seq = x."changedSeq"
      FROM jsonb_to_recordset(doc->'edits') AS x("conversationId" text, seq bigint, body text, "changedSeq" bigint)
     WHERE m.conversation_id = x."conversationId" AND m.seq = x.seq;
  END IF;
  IF doc ? 'deletes' THEN
    DELETE FROM messages m
     USING jsonb_to_recordset(doc->'deletes') AS x("conversationId" text, seq bigint)
     WHERE m.conversation_id = x."conversationId" AND m.seq = x.seq;
  END IF;
END;
$$;

-- Batches of several partitions in one statement and one transaction (a group commit).
CREATE FUNCTION search_commit_batches(docs jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  doc jsonb;
BEGIN
  FOR doc IN SELECT value FROM jsonb_array_elements(docs) LOOP
    PERFORM search_commit_batch(doc);
  END LOOP;
END;
$$;
