import { listPosition, type ListPosition } from '@chat/contracts';
import { decodeOpaque, encodeOpaque } from './opaque.cursor';

/** The `next`/`before` of `conversation:list`: base64url JSON `[at, id]`. */
export function encodeListCursor(position: ListPosition): string {
  return encodeOpaque([position.at, position.id]);
}

/** `undefined` for anything that is not a list cursor this server could have written. */
export function decodeListCursor(text: string): ListPosition | undefined {
  const raw = decodeOpaque(text);
  if (!Array.isArray(raw) || raw.length !== 2) return undefined;
  const parsed = listPosition.safeParse({ at: raw[0], id: raw[1] });
  return parsed.success ? parsed.data : undefined;
}
