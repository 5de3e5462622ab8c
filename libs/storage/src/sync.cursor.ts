import { decodeOpaque, encodeOpaque } from './opaque.cursor';

/**
 * The sync cursor: one watermark per partition (the projector checkpoint the reader saw),
 * opaque to clients. Everything at or below a watermark was committed when it was read,
 * so syncing from it misses nothing.
 */
export interface SyncCursor {
  watermarks: number[];
}

const VERSION = 1;

export function encodeCursor(cursor: SyncCursor): string {
  return encodeOpaque({ v: VERSION, w: cursor.watermarks });
}

/** `undefined` for anything that is not a cursor this server wrote. */
export function decodeCursor(text: string): SyncCursor | undefined {
  const raw = decodeOpaque(text);
  const r = raw as { v?: unknown; w?: unknown };
  if (typeof raw !== 'object' || raw === null || r.v !== VERSION || !Array.isArray(r.w) || r.w.length > 4096) return undefined;
  if (!r.w.every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
  return { watermarks: r.w as number[] };
}
