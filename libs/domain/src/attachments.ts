/**
 * What the log keeps of a file attached to a message: its metadata only. The bytes are an
 * object in S3 under the conversation's attachments prefix; they never pass through the log.
 */
export interface AttachmentRef {
  id: string;
  name: string;
  contentType: string;
  size: number;
}

/** docs/protocol.md "Attachments": at most this many attachments per message. */
export const MAX_ATTACHMENTS = 10;
/** A file name: 1-255 characters. */
export const MAX_ATTACHMENT_NAME = 255;
/** `type/subtype` with parameters, as HTTP carries it. */
export const MAX_CONTENT_TYPE = 255;
/** An attachment id: what `attachment:create` hands out (a UUID), and nothing that could leave its key's segment. */
export const ATTACHMENT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isAttachmentRef(raw: unknown): raw is AttachmentRef {
  if (typeof raw !== 'object' || raw === null) return false;
  const a = raw as Record<string, unknown>;
  return typeof a.id === 'string' && ATTACHMENT_ID_PATTERN.test(a.id) &&
    typeof a.name === 'string' && a.name.length >= 1 && a.name.length <= MAX_ATTACHMENT_NAME &&
    typeof a.contentType === 'string' && a.contentType.length >= 1 && a.contentType.length <= MAX_CONTENT_TYPE &&
    Number.isSafeInteger(a.size) && (a.size as number) >= 0;
}
