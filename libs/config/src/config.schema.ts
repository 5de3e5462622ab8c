import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { parseDuration } from './duration';
// The pure rules alone (not @chat/push, whose providers the supervisor has no use for).
import { checkPushTarget } from '../../push/src/push.target';

const DEV_JWT_SECRET = 'dev-only-jwt-secret-change-me-0123456789abcdef';
const DEV_ADMIN_TOKEN = 'dev-only-admin-token';
const DEV_WEBHOOK_SECRET = 'dev-only-integrator-webhook-secret';

const int = (min: number, max: number) =>
  z.string().regex(/^\d+$/, `expected an integer from ${min} to ${max}`).transform(Number).pipe(z.number().int().min(min).max(max));
const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 5s, 10m, 2h, 30d' });
    return z.NEVER;
  }
  return ms;
});
const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');
const url = (protocols: string[]) =>
  z.string().refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `expected a ${protocols.join(' or ')} URL`);
const natsUrls = z
  .string()
  .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
  .pipe(z.array(url(['nats:', 'tls:'])).min(1, 'expected one or more nats:// URLs, comma separated'));
const redisUrls = z
  .string()
  .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
  .pipe(z.array(url(['redis:', 'rediss:'])).min(1, 'expected one or more redis:// URLs, comma separated'));
/** `0,1`, `2-3`, `0-1,5`: the partitions one projector process owns. */
const partitionList = z.string().transform((text, ctx) => {
  const owned = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    const from = Number(range?.[1]);
    const to = Number(range?.[2] ?? range?.[1]);
    if (!range || to < from || to > 1023) {
      ctx.addIssue({ code: 'custom', message: 'expected partitions such as 0,1 or 0-3 or 0-1,5' });
      return z.NEVER;
    }
    for (let p = from; p <= to; p++) owned.add(p);
  }
  if (owned.size === 0) {
    ctx.addIssue({ code: 'custom', message: 'expected at least one partition' });
    return z.NEVER;
  }
  return [...owned].sort((a, b) => a - b);
});

/** Every environment variable of docs/protocol.md that exists so far, with its quick-start default. */
export const configSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: int(1, 65535).default(3000),
  CHAT_NATS_URL: natsUrls.default(['nats://127.0.0.1:4222']),
  CHAT_DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/chat'),
  /** One URL; with CHAT_REDIS_CLUSTER=1, one or more seed nodes of the Redis Cluster, comma separated. */
  CHAT_REDIS_URL: redisUrls.default(['redis://127.0.0.1:6379']),
  CHAT_REDIS_CLUSTER: flag.default(false),
  CHAT_JWT_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
  /** When set, tokens must carry this `iss` / an `aud` that includes this value. */
  CHAT_JWT_ISSUER: z.string().min(1).max(256).optional(),
  CHAT_JWT_AUDIENCE: z.string().min(1).max(256).optional(),
  CHAT_ADMIN_TOKEN: z.string().min(16, 'expected at least 16 characters').optional(),
  CHAT_DEV_TOKENS: flag.default(false),
  /** Seconds a token's `exp` (and `nbf`/`iat`) may be off by: clocks of issuers and gateways drift. */
  CHAT_JWT_CLOCK_TOLERANCE: int(0, 3600).default(30),
  /** The longest lifetime a token may have (`exp` - `iat`, or `exp` - now without `iat`). */
  CHAT_JWT_MAX_TTL: duration.pipe(z.number().min(1_000, 'expected at least 1s')).default(30 * 86_400_000),
  /** Keys the derivation of direct conversation ids; by default derived from CHAT_JWT_SECRET. */
  CHAT_ID_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
  CHAT_NAMESPACE: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected 1-32 characters of [A-Za-z0-9_-]').default('chat'),
  CHAT_PARTITIONS: int(1, 1024).default(4),
  CHAT_PUSH_FANOUT_MAX: int(2, 1_000_000).default(100),
  CHAT_STREAM_REPLICAS: int(1, 5).default(1),
  CHAT_MAX_GROUP_MEMBERS: int(2, 100_000).default(100_000),
  CHAT_ALLOWED_ORIGINS: z.string().default(''),
  /** Where browsers load the web client: its origin may open sockets (default: the loopback origins of PORT). */
  CHAT_PUBLIC_URL: url(['http:', 'https:']).transform((s) => new URL(s).origin).optional(),
  /** A stable node id (a pod name): a restarted gateway with the same id fences its old leases by epoch. */
  CHAT_NODE_ID: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'expected 1-40 characters of [A-Za-z0-9_-]').optional(),
  CHAT_MAX_CONNECTIONS_PER_USER: int(1, 10_000).default(20),
  CHAT_SEND_RATE: int(1, 1_000_000).default(50),
  CHAT_SEND_BURST: int(1, 1_000_000).default(300),
  CHAT_EVENT_RATE: int(1, 1_000_000).default(100),
  CHAT_EVENT_BURST: int(1, 1_000_000).default(300),
  CHAT_DRAIN_TIMEOUT: duration.default(10_000),
  /** Work per connection: queries (sync, history, conversation:list) under way at once; more are RATE_LIMITED. */
  CHAT_MAX_QUERIES_IN_FLIGHT: int(1, 1_000).default(4),
  /** Items of a query answer stop at about this many bytes of JSON; the answer pages on ("more" and cursors as usual). */
  CHAT_MAX_ANSWER_BYTES: int(64 * 1024, 64 * 1024 * 1024).default(512 * 1024),
  /** Bytes of query answers a connection is sent a second (a user's connections on one gateway: three times), and saved up. */
  CHAT_ANSWER_BYTES_RATE: int(64 * 1024, 1024 * 1024 * 1024).default(2 * 1024 * 1024),
  CHAT_ANSWER_BYTES_BURST: int(64 * 1024, 4 * 1024 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Bytes waiting to be written to a connection over which its new queries are RATE_LIMITED. */
  CHAT_WRITE_BUFFER_SOFT_BYTES: int(64 * 1024, 1024 * 1024 * 1024).default(2 * 1024 * 1024),
  /** Bytes waiting to be written to a connection over which, still so 2 s later, its transport is closed. */
  CHAT_WRITE_BUFFER_HARD_BYTES: int(128 * 1024, 4 * 1024 * 1024 * 1024).default(16 * 1024 * 1024),
  /** A client that has not sent all its request headers by then is disconnected (slowloris). */
  CHAT_HTTP_HEADERS_TIMEOUT: duration.pipe(z.number().min(100, 'expected at least 100ms')).default(10_000),
  CHAT_S3_ENDPOINT: url(['http:', 'https:']).default('http://127.0.0.1:4569'),
  CHAT_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name').default('chat'),
  CHAT_S3_REGION: z.string().min(1).default('us-east-1'),
  CHAT_S3_ACCESS_KEY_ID: z.string().min(1).default('S3RVER'),
  CHAT_S3_SECRET_ACCESS_KEY: z.string().min(1).default('S3RVER'),
  /** The S3 address put in the presigned URLs handed to clients, where they reach S3 by another address than CHAT_S3_ENDPOINT. */
  CHAT_S3_PUBLIC_ENDPOINT: url(['http:', 'https:']).optional(),
  /** docs/protocol.md "Attachments": the largest file `attachment:create` takes (25 MiB; S3's single PUT takes 5 GiB). */
  CHAT_MAX_ATTACHMENT_BYTES: int(1, 5 * 1024 ** 3).default(25 * 1024 * 1024),
  /** An attachment created and never sent in a message is deleted (object and row) by the archiver once this old. */
  CHAT_ATTACHMENT_UNSENT_AGE: duration.pipe(z.number().min(1_000, 'expected at least 1s')).default(86_400_000),
  CHAT_TIER_HOT_AGE: duration.default(30 * 86_400_000),
  CHAT_TIER_WARM_AGE: duration.default(365 * 86_400_000),
  CHAT_ARCHIVE_INTERVAL: duration.default(3_600_000),
  CHAT_ARCHIVE_BLOCK: int(1, 10_000).default(200),
  /** Test hook: the archiver kills itself at this step of a move (see apps/archiver). */
  CHAT_TEST_ARCHIVER_CRASH: z.enum(['warm-copied', 'cold-put', 'cold-verified', 'cold-recorded', 'patch-put']).optional(),
  CHAT_PUSH_COALESCE: duration.default(30_000),
  CHAT_PUSH_ACTIVE_WITHIN: duration.default(14 * 86_400_000),
  /** Webhook and Web Push targets on http://loopback: for local receivers and tests; off in production unless set. */
  CHAT_PUSH_ALLOW_LOOPBACK: flag.optional(),
  CHAT_PUSH_WEBHOOK_SECRET: z.string().min(16, 'expected at least 16 characters').default('dev-only-webhook-secret'),
  /** Host names (or host:port) webhook targets may name, comma separated, compared case-insensitively; empty: no webhooks. */
  CHAT_PUSH_WEBHOOK_HOSTS: z
    .string()
    .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/, 'expected host names or host:port, comma separated')))
    .default([]),
  /** One provider call (connect, answer) at most this long; the try then counts as failed and is retried later. */
  CHAT_PUSH_TIMEOUT: duration.pipe(z.number().min(100, 'expected at least 100ms').max(60_000, 'expected at most 60s')).default(5_000),
  /** Where every conversation event is POSTed (apps/webhooks); unset: no webhooks. Its target rules are checked in loadConfig. */
  CHAT_WEBHOOK_URL: z.string().optional(),
  /** Keys the HMAC-SHA256 signature of every webhook call; required with CHAT_WEBHOOK_URL in production. */
  CHAT_WEBHOOK_SECRET: z.string().min(16, 'expected at least 16 characters').optional(),
  /** CHAT_WEBHOOK_URL on loopback, over http: too (local receivers, tests); off in production unless set. */
  CHAT_WEBHOOK_ALLOW_LOOPBACK: flag.optional(),
  /** One webhook call (connect to answer) at most this long; then it counts as failed and is tried again. */
  CHAT_WEBHOOK_TIMEOUT: duration.pipe(z.number().min(100, 'expected at least 100ms').max(60_000, 'expected at most 60s')).default(5_000),
  /** Webhook calls in flight per partition, each conversation one at a time (1: strictly one after the other per partition). */
  CHAT_WEBHOOK_CONCURRENCY: int(1, 256).default(8),
  CHAT_FCM_PROJECT_ID: z.string().min(1).optional(),
  CHAT_FCM_CLIENT_EMAIL: z.string().min(1).optional(),
  CHAT_FCM_PRIVATE_KEY: z.string().min(1).optional(),
  CHAT_FCM_TOKEN_URL: url(['http:', 'https:']).default('https://oauth2.googleapis.com/token'),
  CHAT_FCM_ENDPOINT: url(['http:', 'https:']).default('https://fcm.googleapis.com'),
  CHAT_APNS_TEAM_ID: z.string().min(1).optional(),
  CHAT_APNS_KEY_ID: z.string().min(1).optional(),
  CHAT_APNS_PRIVATE_KEY: z.string().min(1).optional(),
  CHAT_APNS_BUNDLE_ID: z.string().min(1).optional(),
  CHAT_APNS_ENDPOINT: url(['http:', 'https:']).default('https://api.push.apple.com'),
  CHAT_VAPID_PUBLIC_KEY: z.string().min(1).optional(),
  CHAT_VAPID_PRIVATE_KEY: z.string().min(1).optional(),
  CHAT_VAPID_SUBJECT: z.string().min(1).default('mailto:ops@example.com'),
  /** Test hook: the notifier kills itself after this many sent wake-ups, before recording and acking. */
  CHAT_TEST_NOTIFIER_CRASH_AFTER_SENDS: int(1, 1_000_000).optional(),
  CHAT_DUPLICATE_WINDOW: duration.default(120_000),
  CHAT_PROJECTOR_BATCH: int(1, 10_000).default(500),
  /** How long JetStream waits for the projector's ack before redelivering (a batch still committing is redelivered, then dropped by seq). */
  CHAT_PROJECTOR_ACK_WAIT: duration.default(30_000),
  /** The partitions this projector process consumes (default: all of them). */
  CHAT_PROJECTOR_PARTITIONS: partitionList.optional(),
  CHAT_SYNC_RETENTION: duration.default(30 * 86_400_000),
  /** Test hook: the projector kills itself (SIGKILL) after this many commits, before acking. */
  CHAT_TEST_CRASH_AFTER_COMMITS: int(1, 1_000_000).optional(),
  CHAT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** OpenTelemetry's own variable: when set, spans are exported there over OTLP/HTTP (libs/platform tracing.ts). */
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional(),
});

type Parsed = z.infer<typeof configSchema>;

export interface Config
  extends Omit<Parsed, 'CHAT_JWT_SECRET' | 'CHAT_ADMIN_TOKEN' | 'CHAT_ALLOWED_ORIGINS' | 'CHAT_PUSH_ALLOW_LOOPBACK' | 'CHAT_PROJECTOR_PARTITIONS' | 'CHAT_ID_SECRET' | 'CHAT_WEBHOOK_ALLOW_LOOPBACK'> {
  /** The partitions this projector owns: CHAT_PROJECTOR_PARTITIONS, or every partition. */
  CHAT_PROJECTOR_PARTITIONS: number[];
  CHAT_PUSH_ALLOW_LOOPBACK: boolean;
  CHAT_WEBHOOK_ALLOW_LOOPBACK: boolean;
  CHAT_JWT_SECRET: string;
  CHAT_ADMIN_TOKEN: string;
  /** Origins (`scheme://host[:port]`), as listed. */
  CHAT_ALLOWED_ORIGINS: string[];
  /** CHAT_ID_SECRET, or a key derived from CHAT_JWT_SECRET. */
  CHAT_ID_SECRET: string;
  /** Lines to print at start: development defaults that must not reach production. */
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`config: ${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; the first bad or missing value throws, naming its variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const got = present[variable] === undefined ? '' : ` (got ${JSON.stringify(present[variable])})`;
    throw new ConfigError(variable, `${issue.message}${got}`);
  }
  const parsed = result.data;
  const outside = parsed.CHAT_PROJECTOR_PARTITIONS?.filter((p) => p >= parsed.CHAT_PARTITIONS);
  if (outside?.length) {
    throw new ConfigError('CHAT_PROJECTOR_PARTITIONS', `partition ${outside[0]} does not exist: CHAT_PARTITIONS is ${parsed.CHAT_PARTITIONS} (got ${JSON.stringify(env.CHAT_PROJECTOR_PARTITIONS)})`);
  }
  if (!parsed.CHAT_REDIS_CLUSTER && parsed.CHAT_REDIS_URL.length > 1) {
    throw new ConfigError('CHAT_REDIS_URL', `several URLs need CHAT_REDIS_CLUSTER=1 (got ${JSON.stringify(env.CHAT_REDIS_URL)})`);
  }
  if (parsed.CHAT_WRITE_BUFFER_HARD_BYTES <= parsed.CHAT_WRITE_BUFFER_SOFT_BYTES) {
    throw new ConfigError('CHAT_WRITE_BUFFER_HARD_BYTES', `must be above CHAT_WRITE_BUFFER_SOFT_BYTES (${parsed.CHAT_WRITE_BUFFER_SOFT_BYTES}) (got ${JSON.stringify(env.CHAT_WRITE_BUFFER_HARD_BYTES ?? String(parsed.CHAT_WRITE_BUFFER_HARD_BYTES))})`);
  }
  const production = parsed.NODE_ENV === 'production';
  if (production && parsed.CHAT_DEV_TOKENS) {
    // Anyone could mint a token for any user: the flag is for the local quick start only.
    throw new ConfigError('CHAT_DEV_TOKENS', 'must be off when NODE_ENV=production');
  }
  const allowedOrigins = parsed.CHAT_ALLOWED_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean).map((o) => {
    const origin = originOf(o);
    if (origin === undefined) throw new ConfigError('CHAT_ALLOWED_ORIGINS', `expected http(s) origins, comma separated (got ${JSON.stringify(o)})`);
    return origin;
  });
  const warnings: string[] = [];
  const secret = (name: 'CHAT_JWT_SECRET' | 'CHAT_ADMIN_TOKEN', fallback: string): string => {
    const value = parsed[name];
    if (value !== undefined) return value;
    if (production) throw new ConfigError(name, 'required when NODE_ENV=production');
    warnings.push(`${name} is not set: using the DEVELOPMENT value ${JSON.stringify(fallback)}; never run like this in production`);
    return fallback;
  };
  const jwtSecret = secret('CHAT_JWT_SECRET', DEV_JWT_SECRET);
  const webhookLoopback = parsed.CHAT_WEBHOOK_ALLOW_LOOPBACK ?? !production;
  let webhookSecret = parsed.CHAT_WEBHOOK_SECRET;
  if (parsed.CHAT_WEBHOOK_URL !== undefined) {
    // The push targets' rules (https, public addresses, plain spelling), without their host
    // list: the operator names this URL. Names are judged again by their addresses at each connect.
    const target = checkPushTarget(parsed.CHAT_WEBHOOK_URL, { allowLoopback: webhookLoopback });
    if (!target.ok) {
      const loopback = /loopback/.test(target.reason) && !webhookLoopback ? '; loopback needs CHAT_WEBHOOK_ALLOW_LOOPBACK=1' : '';
      throw new ConfigError('CHAT_WEBHOOK_URL', `${target.reason}${loopback} (got ${JSON.stringify(withoutQuery(parsed.CHAT_WEBHOOK_URL))})`);
    }
    if (webhookSecret === undefined) {
      if (production) throw new ConfigError('CHAT_WEBHOOK_SECRET', 'required with CHAT_WEBHOOK_URL when NODE_ENV=production');
      warnings.push(`CHAT_WEBHOOK_SECRET is not set: signing webhooks with the DEVELOPMENT value ${JSON.stringify(DEV_WEBHOOK_SECRET)}; never run like this in production`);
      webhookSecret = DEV_WEBHOOK_SECRET;
    }
  }
  return {
    ...parsed,
    CHAT_JWT_SECRET: jwtSecret,
    CHAT_ADMIN_TOKEN: secret('CHAT_ADMIN_TOKEN', DEV_ADMIN_TOKEN),
    // A key of its own for ids, so that knowing ids tells nothing of the token secret.
    CHAT_ID_SECRET: parsed.CHAT_ID_SECRET ?? createHmac('sha256', jwtSecret).update('chat direct conversation ids').digest('base64url'),
    CHAT_PROJECTOR_PARTITIONS: parsed.CHAT_PROJECTOR_PARTITIONS ?? Array.from({ length: parsed.CHAT_PARTITIONS }, (_, p) => p),
    CHAT_ALLOWED_ORIGINS: allowedOrigins,
    // A user registering http://localhost could make the server call its own services.
    CHAT_PUSH_ALLOW_LOOPBACK: parsed.CHAT_PUSH_ALLOW_LOOPBACK ?? !production,
    CHAT_WEBHOOK_ALLOW_LOOPBACK: webhookLoopback,
    CHAT_WEBHOOK_SECRET: webhookSecret,
    warnings,
  };
}

/** A URL as it may be printed: its query (which may carry a key) left out. */
function withoutQuery(text: string): string {
  const cut = text.search(/[?#]/);
  return cut < 0 ? text : `${text.slice(0, cut)}?...`;
}

/** `https://a.example:8443` of an http(s) URL with nothing after its origin but `/`; else undefined. */
function originOf(text: string): string | undefined {
  try {
    const u = new URL(text);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.pathname !== '/' || u.search || u.hash) return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/**
 * The browser origins that may open a socket: the public origin (CHAT_PUBLIC_URL; unset,
 * the loopback origins of PORT, where the quick start serves the web client) and
 * CHAT_ALLOWED_ORIGINS. Never derived from a request (its Host header is the client's to
 * choose: DNS rebinding).
 */
export function trustedOrigins(config: Pick<Config, 'CHAT_PUBLIC_URL' | 'CHAT_ALLOWED_ORIGINS' | 'PORT'>): string[] {
  const own = config.CHAT_PUBLIC_URL !== undefined
    ? [config.CHAT_PUBLIC_URL]
    : ['localhost', '127.0.0.1', '[::1]'].map((host) => new URL(`http://${host}:${config.PORT}`).origin);
  return [...new Set([...own, ...config.CHAT_ALLOWED_ORIGINS])];
}

/** For `main.ts`: one clear line on stderr and exit 1, rather than a stack trace. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
