/**
 * The wire form every cursor of the socket API shares: JSON in base64url, opaque to clients.
 * Decoding answers `undefined` for text that is not base64url JSON; what the value must
 * look like is each cursor's own check.
 */
export function encodeOpaque(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeOpaque(text: string): unknown {
  // Buffer's decoder skips what is not base64url: only text this server could have written is read.
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
