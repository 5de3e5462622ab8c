import { ConfigError, loadConfig, trustedOrigins } from './config.schema';
import { parseDuration } from './duration';

const SECRET = 's'.repeat(32);
const ADMIN = 'a'.repeat(16);

/** The error `loadConfig(env)` throws, or a failure when it does not throw. */
function refusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('uses the quick-start defaults for an empty environment', () => {
    expect(loadConfig({})).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      CHAT_PARTITIONS: 4,
      CHAT_NAMESPACE: 'chat',
      CHAT_NATS_URL: ['nats://127.0.0.1:4222'],
      CHAT_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/chat',
      CHAT_DEV_TOKENS: false,
      CHAT_DUPLICATE_WINDOW: 120_000,
      CHAT_ALLOWED_ORIGINS: [],
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', CHAT_PARTITIONS: '' })).toMatchObject({ PORT: 3000, CHAT_PARTITIONS: 4 });
  });

  it('parses the values it is given', () => {
    expect(
      loadConfig({
        PORT: '8080', CHAT_PARTITIONS: '16', CHAT_NAMESPACE: 'test_ns-1', CHAT_DEV_TOKENS: 'true',
        CHAT_DUPLICATE_WINDOW: '5s', CHAT_DATABASE_URL: 'postgresql://u@db/chat', CHAT_JWT_SECRET: SECRET,
      }),
    ).toMatchObject({
      PORT: 8080, CHAT_PARTITIONS: 16, CHAT_NAMESPACE: 'test_ns-1', CHAT_DEV_TOKENS: true,
      CHAT_DUPLICATE_WINDOW: 5000, CHAT_DATABASE_URL: 'postgresql://u@db/chat', CHAT_JWT_SECRET: SECRET,
    });
  });

  it('parses a comma-separated CHAT_NATS_URL into a list, trimming spaces and empty entries', () => {
    expect(loadConfig({ CHAT_NATS_URL: 'nats://a:4222, tls://b:4222,,nats://c' }).CHAT_NATS_URL).toEqual([
      'nats://a:4222', 'tls://b:4222', 'nats://c',
    ]);
  });

  it('reads CHAT_PUSH_WEBHOOK_HOSTS as lower-case hosts (none by default) and CHAT_PUSH_TIMEOUT as a duration (5 s)', () => {
    expect(loadConfig({})).toMatchObject({ CHAT_PUSH_WEBHOOK_HOSTS: [], CHAT_PUSH_TIMEOUT: 5000 });
    expect(loadConfig({ CHAT_PUSH_WEBHOOK_HOSTS: 'Hooks.Example.com, push.example.net:8443,,[::1]:9000', CHAT_PUSH_TIMEOUT: '2s' })).toMatchObject({
      CHAT_PUSH_WEBHOOK_HOSTS: ['hooks.example.com', 'push.example.net:8443', '[::1]:9000'], CHAT_PUSH_TIMEOUT: 2000,
    });
    expect(refusal({ CHAT_PUSH_WEBHOOK_HOSTS: 'https://hooks.example.com/' }).variable).toBe('CHAT_PUSH_WEBHOOK_HOSTS');
    expect(refusal({ CHAT_PUSH_WEBHOOK_HOSTS: '*.example.com' }).variable).toBe('CHAT_PUSH_WEBHOOK_HOSTS');
    expect(refusal({ CHAT_PUSH_TIMEOUT: '10ms' }).variable).toBe('CHAT_PUSH_TIMEOUT');
  });

  it('splits CHAT_ALLOWED_ORIGINS on commas, trimming spaces and empty entries', () => {
    expect(loadConfig({ CHAT_ALLOWED_ORIGINS: 'https://a.example, http://localhost:5173,' }).CHAT_ALLOWED_ORIGINS).toEqual([
      'https://a.example', 'http://localhost:5173',
    ]);
  });

  it.each([
    ['CHAT_PARTITIONS', 'abc'],
    ['CHAT_PARTITIONS', '0'],
    ['CHAT_PARTITIONS', '1025'],
    ['CHAT_PARTITIONS', '-1'],
    ['PORT', '70000'],
    ['PORT', '3000.5'],
    ['CHAT_NAMESPACE', 'a.b'],
    ['CHAT_NAMESPACE', 'a>'],
    ['CHAT_DATABASE_URL', 'http://x'],
    ['CHAT_DATABASE_URL', 'not a url'],
    ['CHAT_REDIS_URL', 'http://x'],
    ['CHAT_NATS_URL', 'http://x'],
    ['CHAT_NATS_URL', 'nats://a,http://x'],
    ['CHAT_NATS_URL', ','],
    ['CHAT_REDIS_URL', 'redis://a,http://x'],
    ['CHAT_REDIS_URL', 'redis://a:1,redis://b:2'],
    ['CHAT_REDIS_CLUSTER', 'yes'],
    ['CHAT_PROJECTOR_PARTITIONS', 'x'],
    ['CHAT_PROJECTOR_PARTITIONS', '3-1'],
    ['CHAT_PROJECTOR_PARTITIONS', ','],
    ['CHAT_PROJECTOR_PARTITIONS', '0,4'],
    ['CHAT_DEV_TOKENS', 'maybe'],
    ['CHAT_DUPLICATE_WINDOW', '5x'],
    ['CHAT_LOG_LEVEL', 'loud'],
    ['CHAT_ADMIN_TOKEN', 'short'],
  ])('refuses %s=%s with a ConfigError naming the variable and the value', (variable, value) => {
    const err = refusal({ [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`config: ${variable}: `)).toBe(true);
    expect(err.message).toContain(JSON.stringify(value));
  });

  it('gives a projector every partition unless CHAT_PROJECTOR_PARTITIONS names some', () => {
    expect(loadConfig({ CHAT_PARTITIONS: '3' }).CHAT_PROJECTOR_PARTITIONS).toEqual([0, 1, 2]);
    expect(loadConfig({ CHAT_PARTITIONS: '8', CHAT_PROJECTOR_PARTITIONS: '5, 0-2,1' }).CHAT_PROJECTOR_PARTITIONS).toEqual([0, 1, 2, 5]);
  });

  it('takes several Redis seed nodes in cluster mode and one URL otherwise', () => {
    expect(loadConfig({ CHAT_REDIS_CLUSTER: '1', CHAT_REDIS_URL: 'redis://a:7000, redis://b:7001' })).toMatchObject({
      CHAT_REDIS_CLUSTER: true, CHAT_REDIS_URL: ['redis://a:7000', 'redis://b:7001'],
    });
    expect(loadConfig({})).toMatchObject({ CHAT_REDIS_CLUSTER: false, CHAT_REDIS_URL: ['redis://127.0.0.1:6379'] });
  });

  it('gives a development JWT secret with a warning line when CHAT_JWT_SECRET is missing', () => {
    const config = loadConfig({ CHAT_ADMIN_TOKEN: ADMIN });
    expect(config.CHAT_JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toMatch(/^CHAT_JWT_SECRET is not set: using the DEVELOPMENT value/);
    expect(config.warnings[0]).toContain(config.CHAT_JWT_SECRET);
  });

  it('reads the JWT issuer and audience when set, and leaves them unchecked otherwise', () => {
    expect(loadConfig({ CHAT_JWT_ISSUER: 'https://id.example.com', CHAT_JWT_AUDIENCE: 'chat' })).toMatchObject({ CHAT_JWT_ISSUER: 'https://id.example.com', CHAT_JWT_AUDIENCE: 'chat' });
    expect(loadConfig({}).CHAT_JWT_ISSUER).toBeUndefined();
    expect(loadConfig({}).CHAT_JWT_AUDIENCE).toBeUndefined();
  });

  it('reads the attachment settings: 25 MiB, a day before an unsent upload goes, the public S3 address only when set', () => {
    expect(loadConfig({})).toMatchObject({ CHAT_MAX_ATTACHMENT_BYTES: 25 * 1024 * 1024, CHAT_ATTACHMENT_UNSENT_AGE: 86_400_000 });
    expect(loadConfig({}).CHAT_S3_PUBLIC_ENDPOINT).toBeUndefined();
    expect(loadConfig({ CHAT_MAX_ATTACHMENT_BYTES: '1024', CHAT_ATTACHMENT_UNSENT_AGE: '5s', CHAT_S3_PUBLIC_ENDPOINT: 'https://files.example.com' }))
      .toMatchObject({ CHAT_MAX_ATTACHMENT_BYTES: 1024, CHAT_ATTACHMENT_UNSENT_AGE: 5_000, CHAT_S3_PUBLIC_ENDPOINT: 'https://files.example.com' });
    expect(refusal({ CHAT_MAX_ATTACHMENT_BYTES: '0' }).variable).toBe('CHAT_MAX_ATTACHMENT_BYTES');
    expect(refusal({ CHAT_ATTACHMENT_UNSENT_AGE: '500ms' }).variable).toBe('CHAT_ATTACHMENT_UNSENT_AGE');
    expect(refusal({ CHAT_ATTACHMENT_UNSENT_AGE: 'a day' }).variable).toBe('CHAT_ATTACHMENT_UNSENT_AGE');
    expect(refusal({ CHAT_S3_PUBLIC_ENDPOINT: 'ftp://files' }).variable).toBe('CHAT_S3_PUBLIC_ENDPOINT');
  });

  it('takes CHAT_HTTP_HEADERS_TIMEOUT as a duration of at least 100 ms, 10 s by default', () => {
    expect(loadConfig({}).CHAT_HTTP_HEADERS_TIMEOUT).toBe(10_000);
    expect(loadConfig({ CHAT_HTTP_HEADERS_TIMEOUT: '2s' }).CHAT_HTTP_HEADERS_TIMEOUT).toBe(2_000);
    expect(refusal({ CHAT_HTTP_HEADERS_TIMEOUT: '50ms' }).variable).toBe('CHAT_HTTP_HEADERS_TIMEOUT');
  });

  it('bounds the work of one connection by default, and wants the hard write buffer cap above the soft one', () => {
    expect(loadConfig({})).toMatchObject({
      CHAT_MAX_QUERIES_IN_FLIGHT: 4, CHAT_MAX_ANSWER_BYTES: 512 * 1024,
      CHAT_ANSWER_BYTES_RATE: 2 * 1024 * 1024, CHAT_ANSWER_BYTES_BURST: 4 * 1024 * 1024,
      CHAT_WRITE_BUFFER_SOFT_BYTES: 2 * 1024 * 1024, CHAT_WRITE_BUFFER_HARD_BYTES: 16 * 1024 * 1024,
    });
    expect(loadConfig({ CHAT_MAX_QUERIES_IN_FLIGHT: '1', CHAT_MAX_ANSWER_BYTES: '65536' })).toMatchObject({ CHAT_MAX_QUERIES_IN_FLIGHT: 1, CHAT_MAX_ANSWER_BYTES: 65_536 });
    expect(refusal({ CHAT_MAX_QUERIES_IN_FLIGHT: '0' }).variable).toBe('CHAT_MAX_QUERIES_IN_FLIGHT');
    // Below one 16 KiB message with its envelope: a page could not make progress.
    expect(refusal({ CHAT_MAX_ANSWER_BYTES: '1000' }).variable).toBe('CHAT_MAX_ANSWER_BYTES');
    expect(refusal({ CHAT_WRITE_BUFFER_SOFT_BYTES: '4194304', CHAT_WRITE_BUFFER_HARD_BYTES: '4194304' }).variable).toBe('CHAT_WRITE_BUFFER_HARD_BYTES');
  });

  it('gives no warning when both secrets are set', () => {
    expect(loadConfig({ CHAT_JWT_SECRET: SECRET, CHAT_ADMIN_TOKEN: ADMIN }).warnings).toEqual([]);
  });

  it('requires CHAT_JWT_SECRET with NODE_ENV=production', () => {
    const err = refusal({ NODE_ENV: 'production', CHAT_ADMIN_TOKEN: ADMIN });
    expect(err.variable).toBe('CHAT_JWT_SECRET');
    expect(err.message).toBe('config: CHAT_JWT_SECRET: required when NODE_ENV=production');
  });

  it('requires CHAT_ADMIN_TOKEN with NODE_ENV=production', () => {
    expect(refusal({ NODE_ENV: 'production', CHAT_JWT_SECRET: SECRET }).variable).toBe('CHAT_ADMIN_TOKEN');
  });

  it('loads a production environment with both secrets and no warnings', () => {
    expect(loadConfig({ NODE_ENV: 'production', CHAT_JWT_SECRET: SECRET, CHAT_ADMIN_TOKEN: ADMIN })).toMatchObject({
      CHAT_JWT_SECRET: SECRET, CHAT_ADMIN_TOKEN: ADMIN, warnings: [],
    });
  });

  it('refuses development tokens with NODE_ENV=production, and takes them elsewhere', () => {
    const err = refusal({ NODE_ENV: 'production', CHAT_JWT_SECRET: SECRET, CHAT_ADMIN_TOKEN: ADMIN, CHAT_DEV_TOKENS: '1' });
    expect(err.message).toBe('config: CHAT_DEV_TOKENS: must be off when NODE_ENV=production');
    expect(loadConfig({ NODE_ENV: 'production', CHAT_JWT_SECRET: SECRET, CHAT_ADMIN_TOKEN: ADMIN, CHAT_DEV_TOKENS: '0' }).CHAT_DEV_TOKENS).toBe(false);
    expect(loadConfig({ CHAT_DEV_TOKENS: '1' }).CHAT_DEV_TOKENS).toBe(true);
  });

  it('takes CHAT_JWT_MAX_TTL as a duration of at least 1 s, 30 days by default', () => {
    expect(loadConfig({}).CHAT_JWT_MAX_TTL).toBe(30 * 86_400_000);
    expect(loadConfig({ CHAT_JWT_MAX_TTL: '2h' }).CHAT_JWT_MAX_TTL).toBe(7_200_000);
    expect(refusal({ CHAT_JWT_MAX_TTL: '500ms' }).variable).toBe('CHAT_JWT_MAX_TTL');
    expect(refusal({ CHAT_JWT_MAX_TTL: 'forever' }).variable).toBe('CHAT_JWT_MAX_TTL');
  });

  it('keys direct ids with CHAT_ID_SECRET, else with a key derived from (and unlike) CHAT_JWT_SECRET', () => {
    expect(loadConfig({ CHAT_ID_SECRET: 'i'.repeat(32) }).CHAT_ID_SECRET).toBe('i'.repeat(32));
    const derived = loadConfig({ CHAT_JWT_SECRET: SECRET }).CHAT_ID_SECRET;
    expect(derived).toBe(loadConfig({ CHAT_JWT_SECRET: SECRET }).CHAT_ID_SECRET);
    expect(derived).not.toBe(loadConfig({ CHAT_JWT_SECRET: 't'.repeat(32) }).CHAT_ID_SECRET);
    expect(derived).not.toContain(SECRET);
    expect(refusal({ CHAT_ID_SECRET: 'short' }).variable).toBe('CHAT_ID_SECRET');
  });

  it('trusts the public origin and the listed ones, never anything else; the loopback origins of PORT without CHAT_PUBLIC_URL', () => {
    expect(trustedOrigins(loadConfig({ PORT: '3000' }))).toEqual(['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000']);
    expect(trustedOrigins(loadConfig({ PORT: '80' }))).toEqual(['http://localhost', 'http://127.0.0.1', 'http://[::1]']);
    const config = loadConfig({ CHAT_PUBLIC_URL: 'https://chat.example.com/app/', CHAT_ALLOWED_ORIGINS: 'https://admin.example.com:8443/, https://chat.example.com' });
    expect(config.CHAT_PUBLIC_URL).toBe('https://chat.example.com');
    expect(config.CHAT_ALLOWED_ORIGINS).toEqual(['https://admin.example.com:8443', 'https://chat.example.com']);
    expect(trustedOrigins(config)).toEqual(['https://chat.example.com', 'https://admin.example.com:8443']);
  });

  it.each(['null', '*', 'chat.example.com', 'https://chat.example.com/app', 'ftp://chat.example.com', 'https://u:p@chat.example.com'])(
    'refuses %p in CHAT_ALLOWED_ORIGINS: only http(s) origins',
    (entry) => {
      expect(refusal({ CHAT_ALLOWED_ORIGINS: `https://ok.example.com,${entry}` }).variable).toBe('CHAT_ALLOWED_ORIGINS');
    },
  );

  it('leaves webhooks off without CHAT_WEBHOOK_URL; with it, takes only https to a public host, or loopback where allowed', () => {
    const off = loadConfig({});
    expect([off.CHAT_WEBHOOK_URL, off.CHAT_WEBHOOK_SECRET]).toEqual([undefined, undefined]);
    expect(off).toMatchObject({ CHAT_WEBHOOK_TIMEOUT: 5000, CHAT_WEBHOOK_CONCURRENCY: 8 });
    const prod = { NODE_ENV: 'production', CHAT_JWT_SECRET: SECRET, CHAT_ADMIN_TOKEN: ADMIN, CHAT_WEBHOOK_SECRET: 'w'.repeat(16) };
    expect(loadConfig({ ...prod, CHAT_WEBHOOK_URL: 'https://hooks.example.com/chat?key=k' })).toMatchObject({
      CHAT_WEBHOOK_URL: 'https://hooks.example.com/chat?key=k', CHAT_WEBHOOK_SECRET: 'w'.repeat(16), CHAT_WEBHOOK_ALLOW_LOOPBACK: false, warnings: [],
    });
    for (const url of [
      'http://hooks.example.com/x', 'ftp://hooks.example.com/x', 'https://user:pw@hooks.example.com/x', 'https://10.0.0.5/x', 'https://169.254.169.254/x',
      'https://[fd00::1]/x', 'https://2130706433/x', 'https://127.0.0.1/x', 'http://localhost:8080/x', 'not a url',
    ]) {
      const err = refusal({ ...prod, CHAT_WEBHOOK_URL: url });
      expect([url, err.variable]).toEqual([url, 'CHAT_WEBHOOK_URL']);
    }
    expect(refusal({ ...prod, CHAT_WEBHOOK_URL: 'http://127.0.0.1:9/x' }).message).toMatch(/loopback needs CHAT_WEBHOOK_ALLOW_LOOPBACK=1/);
    // The refusal names the URL without its query, which may hold a key.
    expect(refusal({ ...prod, CHAT_WEBHOOK_URL: 'https://10.0.0.5/x?key=secret' }).message).not.toMatch(/secret/);
    // Loopback, over http too: on by default outside production, or when asked for.
    expect(loadConfig({ CHAT_WEBHOOK_URL: 'http://127.0.0.1:9000/hooks', CHAT_WEBHOOK_SECRET: 'w'.repeat(16) }).CHAT_WEBHOOK_ALLOW_LOOPBACK).toBe(true);
    expect(loadConfig({ ...prod, CHAT_WEBHOOK_ALLOW_LOOPBACK: '1', CHAT_WEBHOOK_URL: 'http://[::1]:9000/hooks' }).CHAT_WEBHOOK_URL).toBe('http://[::1]:9000/hooks');
    expect(refusal({ CHAT_WEBHOOK_ALLOW_LOOPBACK: '0', CHAT_WEBHOOK_URL: 'http://127.0.0.1:9000/hooks' }).variable).toBe('CHAT_WEBHOOK_URL');
    expect(refusal({ CHAT_WEBHOOK_TIMEOUT: '50ms' }).variable).toBe('CHAT_WEBHOOK_TIMEOUT');
    expect(refusal({ CHAT_WEBHOOK_CONCURRENCY: '0' }).variable).toBe('CHAT_WEBHOOK_CONCURRENCY');
  });

  it('signs webhooks with a development secret and a warning outside production, and requires CHAT_WEBHOOK_SECRET in production', () => {
    const dev = loadConfig({ CHAT_JWT_SECRET: SECRET, CHAT_ADMIN_TOKEN: ADMIN, CHAT_WEBHOOK_URL: 'https://hooks.example.com/chat' });
    expect(dev.CHAT_WEBHOOK_SECRET).toMatch(/dev-only/);
    expect(dev.warnings).toEqual([expect.stringMatching(/^CHAT_WEBHOOK_SECRET is not set/)]);
    const err = refusal({ NODE_ENV: 'production', CHAT_JWT_SECRET: SECRET, CHAT_ADMIN_TOKEN: ADMIN, CHAT_WEBHOOK_URL: 'https://hooks.example.com/chat' });
    expect(err.message).toBe('config: CHAT_WEBHOOK_SECRET: required with CHAT_WEBHOOK_URL when NODE_ENV=production');
    expect(refusal({ CHAT_WEBHOOK_SECRET: 'short' }).variable).toBe('CHAT_WEBHOOK_SECRET');
  });

  it('refuses a CHAT_JWT_SECRET shorter than 32 characters', () => {
    const err = refusal({ CHAT_JWT_SECRET: 's'.repeat(31) });
    expect(err.message.startsWith('config: CHAT_JWT_SECRET: ')).toBe(true);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['30d', 2_592_000_000],
    ['0s', 0],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', '1w', '-1s', '1.5s', 's', '5 s', '5S', '99999999999999999d'])('refuses %p', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
