import { AttachmentObjects, contentDisposition, PRESIGN_SECONDS } from './attachment.objects';

const settings = { endpoint: 'http://s3.internal:9000', bucket: 'chat', region: 'us-east-1', accessKeyId: 'AK', secretAccessKey: 'SK' };

describe('AttachmentObjects (signing is local: no S3 is called)', () => {
  it('signs upload and download URLs for CHAT_S3_PUBLIC_ENDPOINT when set, for CHAT_S3_ENDPOINT otherwise', async () => {
    const internal = new AttachmentObjects(settings);
    const public_ = new AttachmentObjects({ ...settings, publicEndpoint: 'https://files.example.com' });
    try {
      const now = Date.parse('2030-01-31T12:00:00.000Z');
      const put = await public_.presignPut('chat/attachments/c1/a1', 'image/png', 42, now);
      expect(new URL(put.url).origin).toBe('https://files.example.com');
      expect(new URL(put.url).pathname).toBe('/chat/chat/attachments/c1/a1');
      expect(new URL(put.url).searchParams.get('X-Amz-Expires')).toBe(String(PRESIGN_SECONDS));
      // Both headers are signed: an upload of another type or length does not match the signature.
      expect(new URL(put.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
      expect(put.headers).toEqual({ 'Content-Type': 'image/png', 'Content-Length': '42' });
      expect(put.expiresAt).toBe('2030-01-31T12:15:00.000Z');
      const get = await internal.presignGet('chat/attachments/c1/a1', 'plan.pdf', 'application/pdf', now);
      expect(new URL(get.url).origin).toBe('http://s3.internal:9000');
      expect(new URL(get.url).searchParams.get('response-content-type')).toBe('application/pdf');
    } finally {
      internal.close();
      public_.close();
    }
  });

  it('names the file in Content-Disposition exactly (RFC 6266) with an ASCII fallback', () => {
    expect(contentDisposition('plan.pdf')).toBe(`attachment; filename="plan.pdf"; filename*=UTF-8''plan.pdf`);
    expect(contentDisposition('été "2030".png')).toBe(`attachment; filename="_t_ _2030_.png"; filename*=UTF-8''%C3%A9t%C3%A9%20%222030%22.png`);
  });
});
