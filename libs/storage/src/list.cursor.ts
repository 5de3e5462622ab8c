import { listPosition, type ListPosition } from '@chat/contracts';

/** The `next`/`before` of `conversation:list`: base64url JSON `[at, id]`. */
export function encodeListCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.at, position.id])).toString('base64url');
}

/** `undefined` for anything that is not a list cursor this server could have written. */
export function decodeListCursor(text: string): ListPosition | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw) || raw.length !== 2) return undefined;
  const parsed = listPosition.safeParse({ at: raw[0], id: raw[1] });
  return parsed.success ? parsed.data : undefined;
}
