import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { Message } from '@chat/contracts';

/** How a block's bytes were made; recorded with every block so that codecs can change. */
export const CODEC = 'jsonl+br';

export interface EncodedBlock {
  data: Buffer;
  codec: string;
  rawBytes: number;
  checksum: string;
}

export class CorruptBlockError extends Error {
  constructor(readonly where: string, reason: string) {
    super(`archived block ${where} is damaged: ${reason}`);
    this.name = 'CorruptBlockError';
  }
}

export const checksumOf = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Messages (ascending by seq) as one compressed block: JSON lines, brotli. */
export function encodeBlock(messages: Message[]): EncodedBlock {
  const raw = Buffer.from(messages.map((m) => JSON.stringify(m)).join('\n'));
  const data = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 6, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
  return { data, codec: CODEC, rawBytes: raw.length, checksum: checksumOf(data) };
}

/** The block's messages, after its bytes matched the checksum recorded when it was written. */
export function decodeBlock(data: Uint8Array, codec: string, checksum: string, where: string): Message[] {
  if (checksumOf(data) !== checksum) throw new CorruptBlockError(where, 'checksum mismatch');
  if (codec !== CODEC) throw new CorruptBlockError(where, `unknown codec ${codec}`);
  try {
    return brotliDecompressSync(data).toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Message);
  } catch (err) {
    throw new CorruptBlockError(where, (err as Error).message);
  }
}
