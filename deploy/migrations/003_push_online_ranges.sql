-- An `online` decision is one row per user, conversation and flush of the notifier, not one
-- per message: it covers `messages` messages of the conversation, from `seq` to `to_seq`,
-- each of which found the user online. Other decisions leave both columns null.
ALTER TABLE push_decisions ADD COLUMN to_seq bigint, ADD COLUMN messages integer;
