/**
 * Whether a value holds binary data anywhere: Socket.IO turns a packet's attachments into
 * Buffers wherever their placeholders were, unknown fields included, where a schema that
 * drops unknown fields would never look. Iterative, so 100,000 levels of nesting cannot
 * overflow the stack.
 */
export function containsBinary(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length) {
    const v = pending.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || (typeof Blob !== 'undefined' && v instanceof Blob)) return true;
    if (Array.isArray(v)) for (const item of v) pending.push(item);
    else for (const item of Object.values(v)) pending.push(item);
  }
  return false;
}
