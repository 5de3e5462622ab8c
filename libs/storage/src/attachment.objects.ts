import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobSettings } from './blob.store';

// As in blob.store.ts: the toolchain is Node 20 on purpose; no SDK notice about Node 22 in every process.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** docs/protocol.md "Attachments": an upload or download URL is valid this long. */
export const PRESIGN_SECONDS = 15 * 60;

/** A presigned request: the URL, the headers it was signed with, and when it stops working. */
export interface Presigned {
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}

/**
 * Attachment objects in the S3 bucket of the cold tier, under their own prefix. The bytes go
 * between clients and S3 directly, through presigned URLs; the server only signs, checks
 * (HEAD) and deletes. URLs are signed for `publicEndpoint` where clients reach S3 by another
 * address than the servers do (signing is local: that endpoint need not be reachable from here).
 */
export class AttachmentObjects {
  private readonly s3: S3Client;
  private readonly signer: S3Client;

  constructor(private readonly settings: BlobSettings & { publicEndpoint?: string }) {
    const client = (endpoint: string) => new S3Client({
      endpoint, region: settings.region, forcePathStyle: true,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      // A browser's PUT carries no SDK checksum trailer: none is signed into the URL either.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
    this.s3 = client(settings.endpoint);
    this.signer = settings.publicEndpoint ? client(settings.publicEndpoint) : this.s3;
  }

  close(): void {
    this.s3.destroy();
    if (this.signer !== this.s3) this.signer.destroy();
  }

  /** A PUT of exactly `size` bytes of `contentType`: both headers are signed, so the upload must carry them as given. */
  async presignPut(key: string, contentType: string, size: number, now = Date.now()): Promise<Presigned> {
    const command = new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, ContentType: contentType, ContentLength: size });
    const url = await getSignedUrl(this.signer, command, { expiresIn: PRESIGN_SECONDS, signableHeaders: new Set(['content-type', 'content-length']) });
    return { url, headers: { 'Content-Type': contentType, 'Content-Length': String(size) }, expiresAt: new Date(now + PRESIGN_SECONDS * 1000).toISOString() };
  }

  /** A GET that serves the file under its name and type, as a download. */
  async presignGet(key: string, name: string, contentType: string, now = Date.now()): Promise<Presigned> {
    const command = new GetObjectCommand({
      Bucket: this.settings.bucket, Key: key, ResponseContentType: contentType, ResponseContentDisposition: contentDisposition(name),
    });
    const url = await getSignedUrl(this.signer, command, { expiresIn: PRESIGN_SECONDS });
    return { url, headers: {}, expiresAt: new Date(now + PRESIGN_SECONDS * 1000).toISOString() };
  }

  /** The object's size, or undefined when nothing was uploaded there. */
  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return head.ContentLength;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  /** Deleting what is not there succeeds (S3's DELETE is idempotent): a deletion may run again after a crash or a replay. */
  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
  }
}

/** `attachment; filename="..."; filename*=UTF-8''...`: an ASCII fallback for old agents, the exact name for the rest (RFC 6266). */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}
