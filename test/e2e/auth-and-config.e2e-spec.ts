import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../support/app-process';
import { refusedWith, tokenFor, connectClient } from '../support/clients';
import { useSystem } from '../support/system';

jest.setTimeout(90_000);

function unsignedToken(sub: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
}

describe('authentication', () => {
  // No clock tolerance: "expired" here means expired by a second or two (the tolerance has its own test in test/faults/clock-skew).
  const sys = useSystem('auth', { CHAT_JWT_CLOCK_TOLERANCE: '0' });

  it.each([
    ['no token', {}],
    ['an empty token', { token: '' }],
    ['a token that is not a JWT', { token: 'hello' }],
    ['an alg:none token', { token: unsignedToken('alice') }],
  ])('refuses %s with connect_error "unauthorized"', async (_what, auth) => {
    expect(await refusedWith(sys().app.url, auth)).toBe('unauthorized');
  });

  it('refuses expired, wrongly signed and bad-subject tokens with "unauthorized"', async () => {
    expect(await refusedWith(sys().app.url, { token: await tokenFor('alice', { expiresIn: -10 }) })).toBe('unauthorized');
    expect(await refusedWith(sys().app.url, { token: await tokenFor('alice', { secret: 'another-secret-of-enough-length-0123456789' }) })).toBe('unauthorized');
    expect(await refusedWith(sys().app.url, { token: await tokenFor('bad subject!') })).toBe('unauthorized');
  });

  it('refuses a token without exp', async () => {
    const { SignJWT } = await import('jose');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(new TextEncoder().encode(sys().ns.env.CHAT_JWT_SECRET));
    expect(await refusedWith(sys().app.url, { token })).toBe('unauthorized');
  });

  it('refuses the polling transport the same way', async () => {
    expect(await refusedWith(sys().app.url, { token: 'nope' }, { transports: ['polling'] })).toBe('unauthorized');
    const polled = await connectClient(sys().app.url, 'poller', { token: await tokenFor('poller') });
    expect(polled.socket.connected).toBe(true);
    polled.close();
  });

  it('answers UNAUTHORIZED once the token expires during the session', async () => {
    const token = await tokenFor('shortlived', { expiresIn: 2 });
    const client = await sys().connect('shortlived', { token });
    expect((await client.ok('sync', {})).ok).toBe(true);
    const expired = await new Promise<unknown>((resolve) => {
      const attempt = async () => {
        if (!client.socket.connected) return resolve('disconnected');
        const ack = await client.request('sync', {}).catch(() => undefined);
        if (ack && !ack.ok) return resolve(ack);
        setTimeout(attempt, 100);
      };
      void attempt();
    });
    // Either the server answered UNAUTHORIZED or it already closed the expired socket.
    if (expired !== 'disconnected') expect(expired).toEqual({ ok: false, error: expect.objectContaining({ code: 'UNAUTHORIZED' }) });
    expect(await refusedWith(sys().app.url, { token })).toBe('unauthorized');
  });

  it('closes an idle connection once its token expires, within the expiry sweep', async () => {
    const token = await tokenFor('idle-expiring', { expiresIn: 2 });
    const client = await sys().connect('idle-expiring', { token });
    const reason = await new Promise<string>((resolve, reject) => {
      // exp is whole seconds: at most 2 s from now, then one sweep (1 s); the rest is slack.
      const deadline = setTimeout(() => reject(new Error('still connected 8 s after its token expired')), 8_000);
      client.socket.once('disconnect', (why) => (clearTimeout(deadline), resolve(why)));
    });
    expect(reason).toBe('io server disconnect');
  });

  it('has no dev token endpoint unless CHAT_DEV_TOKENS is on', async () => {
    expect((await fetch(`${sys().app.url}/v1/dev/token?user=alice`)).status).toBe(404);
  });

  it('reports health and readiness', async () => {
    expect(await (await fetch(`${sys().app.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${sys().app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', down: [] });
  });
});

describe('dev tokens', () => {
  const sys = useSystem('devtok', { CHAT_DEV_TOKENS: '1' });

  it('issues a token that opens a socket, and refuses a bad user id', async () => {
    const res = await fetch(`${sys().app.url}/v1/dev/token?user=alice`);
    const { token } = (await res.json()) as { token: string };
    const client = await sys().connect('alice', { token });
    expect(client.socket.connected).toBe(true);
    expect((await fetch(`${sys().app.url}/v1/dev/token?user=${encodeURIComponent('a b')}`)).status).toBe(400);
  });
});

describe('configuration at boot', () => {
  function boot(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'dist/apps/all-in-one/src/main.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('exit', (code) => resolve({ code, stderr }));
    });
  }

  it.each([
    ['CHAT_PARTITIONS', 'many'],
    ['PORT', '99999'],
    ['CHAT_NATS_URL', 'http://127.0.0.1:4222'],
    ['CHAT_NAMESPACE', 'has.dot'],
    ['CHAT_JWT_SECRET', 'short'],
  ])('stops with one line naming %s when it is %p', async (variable, value) => {
    const { code, stderr } = await boot({ [variable]: value });
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^config: ${variable}: .*${value.replace(/[.]/g, '\\.')}`));
  });

  it('refuses to run in production with development tokens on', async () => {
    const env: Record<string, string> = { NODE_ENV: 'production', CHAT_ADMIN_TOKEN: 'x'.repeat(20), CHAT_JWT_SECRET: 'y'.repeat(40), CHAT_DEV_TOKENS: '1' };
    const { code, stderr } = await boot(env);
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^config: CHAT_DEV_TOKENS: must be off when NODE_ENV=production$/);
  });

  it('refuses to run in production without a JWT secret', async () => {
    const env: Record<string, string> = { NODE_ENV: 'production', CHAT_ADMIN_TOKEN: 'x'.repeat(20), CHAT_JWT_SECRET: '' };
    const { code, stderr } = await boot(env);
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^config: CHAT_JWT_SECRET: required when NODE_ENV=production$/);
  });
});
