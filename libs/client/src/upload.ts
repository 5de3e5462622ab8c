/** How much of an upload has reached S3: `sent` of `total` bytes. */
export type UploadProgress = (sent: number, total: number) => void;

/** A file to attach: a browser `File`, or any Blob with a name. */
export interface UploadFile {
  name: string;
  /** The media type; empty (as browsers give for unknown extensions) uploads as application/octet-stream. */
  type: string;
  size: number;
}

/** Thrown when the PUT to S3 fails: the attachment is not uploaded, and a send with it would be refused. */
export class UploadError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'UploadError';
  }
}

/** What the SDK uses of a browser's XMLHttpRequest (the SDK compiles without the DOM's types). */
interface Xhr {
  status: number;
  upload: { onprogress: ((e: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
}
const XHR = (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;

/** Headers a page may not set itself (the browser computes them from the body). */
const BROWSER_SETS = new Set(['content-length', 'host']);

/**
 * PUTs `body` to a presigned URL with the signed headers. In a browser this goes through
 * XMLHttpRequest, whose upload events report progress as bytes leave; elsewhere (Node,
 * React Native without XHR upload events) through fetch, reporting once at the end.
 */
export function putObject(url: string, headers: Record<string, string>, body: Blob | Uint8Array, onProgress?: UploadProgress, signal?: AbortSignal): Promise<void> {
  const total = body instanceof Uint8Array ? body.byteLength : body.size;
  onProgress?.(0, total);
  if (XHR) {
    return new Promise((resolve, reject) => {
      const xhr = new XHR();
      xhr.open('PUT', url);
      for (const [name, value] of Object.entries(headers)) if (!BROWSER_SETS.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (e) => onProgress?.(e.loaded, total);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress?.(total, total);
          resolve();
        } else reject(new UploadError(`the upload was refused (HTTP ${xhr.status})`, xhr.status));
      };
      xhr.onerror = () => reject(new UploadError('the upload did not reach the storage'));
      xhr.onabort = () => reject(new UploadError('the upload was cancelled'));
      signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(body);
    });
  }
  return fetch(url, { method: 'PUT', headers, body: body as Blob, signal }).then(
    async (res) => {
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new UploadError(`the upload was refused (HTTP ${res.status})`, res.status);
      onProgress?.(total, total);
    },
    (err: unknown) => {
      throw err instanceof UploadError ? err : new UploadError(`the upload did not reach the storage: ${(err as Error).message}`);
    },
  );
}
