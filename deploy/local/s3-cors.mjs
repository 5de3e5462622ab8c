// Lets browsers upload and download attachments to and from the local S3 endpoint:
// presigned PUTs and GETs come from the web client's origin, another origin than s3rver's.
// Idempotent (the bucket's CORS rules are replaced by the same ones); run by services.sh
// whenever s3rver is up, and by the web client's e2e test. Any other S3 is the operator's
// to configure (docs/operations.md, "Attachments").
//   node deploy/local/s3-cors.mjs [endpoint] [bucket]
import { CreateBucketCommand, HeadBucketCommand, PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const endpoint = process.argv[2] ?? process.env.CHAT_S3_ENDPOINT ?? 'http://127.0.0.1:4569';
const bucket = process.argv[3] ?? process.env.CHAT_S3_BUCKET ?? 'chat';
const s3 = new S3Client({
  endpoint, region: process.env.CHAT_S3_REGION ?? 'us-east-1', forcePathStyle: true,
  credentials: { accessKeyId: process.env.CHAT_S3_ACCESS_KEY_ID ?? 'S3RVER', secretAccessKey: process.env.CHAT_S3_SECRET_ACCESS_KEY ?? 'S3RVER' },
});
try {
  await s3.send(new HeadBucketCommand({ Bucket: bucket })).catch(() => s3.send(new CreateBucketCommand({ Bucket: bucket })));
  await s3.send(new PutBucketCorsCommand({
    Bucket: bucket,
    CORSConfiguration: {
      CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3600 }],
    },
  }));
} finally {
  s3.destroy();
}
