-- Push wake-ups: registered devices, when users were last active, and every decision the
-- notifier made (what it sent, or why not). Not derived from the log: kept in public.
CREATE TABLE push_devices (
  user_id       text NOT NULL,
  device_id     text NOT NULL,
  platform      text NOT NULL CHECK (platform IN ('fcm', 'apns', 'webpush', 'webhook')),
  token         text NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, device_id)
);

CREATE TABLE user_activity (
  user_id        text PRIMARY KEY,
  last_active_at timestamptz NOT NULL
);

CREATE TABLE push_decisions (
  id              bigserial PRIMARY KEY,
  user_id         text NOT NULL,
  conversation_id text NOT NULL,
  seq             bigint NOT NULL,
  decision        text NOT NULL,
  detail          text,
  at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_decisions_by_user ON push_decisions (user_id, id DESC);
