import { z } from 'zod';
import { CONVERSATION_ID_PATTERN, hasControlCharacter, isCanonicalTimestamp } from '@chat/domain';

/** A cursor's timestamp: `toISOString()` form, 1970-9999, so that Postgres reads what JavaScript checked. */
export const cursorTimestamp = z.string().refine(isCanonicalTimestamp, 'not a timestamp of the form 2030-01-31T12:00:00.000Z');
/** Any other text a cursor carries goes into a query or a comparison: no control characters. */
export const cursorText = z.string().min(1).max(200).refine((s) => !hasControlCharacter(s), 'control characters are not allowed');

/** Where a page of conversations (newest activity first) ended: the last one's activity time and id. */
export const listPosition = z.object({ at: cursorTimestamp, id: z.string().regex(CONVERSATION_ID_PATTERN) });
export type ListPosition = z.infer<typeof listPosition>;

/** Where a page of search hits (newest first) ended: the last hit's time, conversation and seq. */
export const searchPosition = z.object({
  at: cursorTimestamp,
  conversationId: z.string().regex(CONVERSATION_ID_PATTERN),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});
export type SearchPosition = z.infer<typeof searchPosition>;
