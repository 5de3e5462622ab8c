/**
 * Text the read models can store. Postgres refuses U+0000 in `text` and `jsonb`, and an
 * unpaired UTF-16 surrogate in `jsonb` (it has no UTF-8 form): one such string in an event
 * would fail every projector batch that holds it and stop its partition. The gateway
 * refuses them at the edge; `upcast` refuses events that carry them anyway.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/**
 * Whether any string in a JSON value (keys included) is unstorable. Iterative, so that a
 * deeply nested value from a hostile publisher cannot overflow the stack.
 */
export function hasUnstorableText(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length) {
    const v = pending.pop();
    if (typeof v === 'string') {
      if (!isStorableText(v)) return true;
    } else if (Array.isArray(v)) {
      pending.push(...v);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, inner] of Object.entries(v)) {
        if (!isStorableText(k)) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

/** Unicode category Cc: C0 controls, DEL and the C1 controls (U+0085 NEL among them). */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Ids and cursors travel in NATS headers, keys and logs: no control character, of either block. */
export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

const CANONICAL_TIMESTAMP = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The one timestamp form cursors carry: `Date#toISOString()` of a time in 1970-9999. Both
 * JavaScript and Postgres read it, as the same instant; JavaScript alone reads far more
 * (`"1"`, weekdays, six-digit years), which Postgres then refuses mid-query.
 */
export function isCanonicalTimestamp(value: string): boolean {
  const m = CANONICAL_TIMESTAMP.exec(value);
  if (!m || Number(m[1]) < 1970) return false;
  const at = new Date(value);
  // Round-trips only if every field was in range (no 30 February, no hour 24).
  return !Number.isNaN(at.getTime()) && at.toISOString() === value;
}
