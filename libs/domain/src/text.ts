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
