import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { createHmac } from 'node:crypto';
import { io } from 'socket.io-client';
import { refusedWith } from '../support/clients';
import { rawHttp } from '../support/hostile';
import { TEST_ADMIN_TOKEN, TEST_JWT_SECRET } from '../support/namespace';
import { useSystem } from '../support/system';

jest.setTimeout(90_000);

const ISSUER = 'https://id.example.com';
const AUDIENCE = 'chat';
const secret = new TextEncoder().encode(TEST_JWT_SECRET);
const now = () => Math.floor(Date.now() / 1000);
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const good = (): JWTPayload => ({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now() + 3600 });

/** A token signed with the configured secret, with the header and claims given. */
function hs(claims: JWTPayload, alg = 'HS256', extraHeader: object = {}): string {
  const signingInput = `${b64({ alg, typ: 'JWT', ...extraHeader })}.${b64(claims)}`;
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg] ?? 'sha256';
  return `${signingInput}.${createHmac(hash, secret).update(signingInput).digest('base64url')}`;
}

async function signedWith(alg: 'RS256' | 'ES256' | 'EdDSA', claims = good(), embedJwk = false): Promise<{ token: string; publicPem: string }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  const header = { alg, typ: 'JWT', ...(embedJwk && { jwk: await exportJWK(publicKey) }) };
  return { token: await new SignJWT(claims).setProtectedHeader(header).sign(privateKey), publicPem: await exportSPKI(publicKey) };
}

describe('authentication attacks', () => {
  // CHAT_ALLOWED_ORIGINS is left at its default (the server's own origin only).
  const sys = useSystem('authatk', { CHAT_JWT_ISSUER: ISSUER, CHAT_JWT_AUDIENCE: AUDIENCE });

  it('accepts the well-formed token, so each refusal below is for the reason it names', async () => {
    for (const token of [hs(good()), hs({ ...good(), aud: ['other', AUDIENCE] })]) {
      const socket = await sys().connect('alice', { token });
      expect(socket.socket.connected).toBe(true);
      socket.close();
    }
  });

  const refusals: Array<[string, () => Promise<Record<string, unknown>> | Record<string, unknown>]> = [
    ['no auth at all', () => ({})],
    ['a token that is a number', () => ({ token: 42 })],
    ['a token of 5,000 characters', () => ({ token: hs({ ...good(), pad: 'x'.repeat(5_000) }) })],
    // Past CHAT_JWT_CLOCK_TOLERANCE (30 s by default): within it, clock drift is forgiven (clock-skew.fault-spec.ts).
    ['an expired token', () => ({ token: hs({ ...good(), exp: now() - 120 }) })],
    ['a token not valid before an hour from now', () => ({ token: hs({ ...good(), nbf: now() + 3600 }) })],
    ['exp as a string', () => ({ token: hs({ ...good(), exp: String(now() + 3600) as unknown as number }) })],
    ['a token signed with another secret', async () => ({ token: await new SignJWT(good()).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(40))) })],
    ['a payload changed after signing', () => {
      const [h, , s] = hs(good()).split('.');
      return { token: `${h}.${b64({ ...good(), sub: 'admin' })}.${s}` };
    }],
    ['alg none without a signature', () => ({ token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(good())}.` })],
    ['alg None with the payload signed anyway', () => ({ token: hs(good(), 'None') })],
    ['alg HS512 with the right secret (the algorithm is pinned)', () => ({ token: hs(good(), 'HS512') })],
    ['alg HS384 with the right secret', () => ({ token: hs(good(), 'HS384') })],
    ['a critical header the server does not understand', () => ({ token: hs(good(), 'HS256', { crit: ['exp'] }) })],
    ['an RS256 token', async () => ({ token: (await signedWith('RS256')).token })],
    ['an ES256 token', async () => ({ token: (await signedWith('ES256')).token })],
    ['an EdDSA token', async () => ({ token: (await signedWith('EdDSA')).token })],
    ['an RS256 token carrying its own key (embedded jwk)', async () => ({ token: (await signedWith('RS256', good(), true)).token })],
    ['an HS256 token signed with a public key as the HMAC secret (key confusion)', async () => {
      const { publicPem } = await signedWith('RS256');
      return { token: await new SignJWT(good()).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(publicPem)) };
    }],
    ['a wrong issuer', () => ({ token: hs({ ...good(), iss: 'https://evil.example.com' }) })],
    ['no issuer', () => ({ token: hs({ ...good(), iss: undefined }) })],
    ['a wrong audience', () => ({ token: hs({ ...good(), aud: 'admin' }) })],
    ['no audience', () => ({ token: hs({ ...good(), aud: undefined }) })],
    // CHAT_JWT_MAX_TTL (30 days by default): no token lives forever.
    ['a token that expires in 1e300 seconds', () => ({ token: hs({ ...good(), exp: 1e300 }) })],
    ['a token issued in 1e300 that expires then (no lifetime on paper)', () => ({ token: hs({ ...good(), iat: 1e300, exp: 1e300 }) })],
    ['a token issued a year ago that is still valid', () => ({ token: hs({ ...good(), iat: now() - 365 * 86_400 }) })],
    ['a token without iat valid for 31 days', () => ({ token: hs({ ...good(), exp: now() + 31 * 86_400 }) })],
    ['a subject that is a NATS wildcard', () => ({ token: hs({ ...good(), sub: 'a.>' }) })],
    ['a device id with a space', () => ({ token: hs({ ...good(), did: 'a b' }) })],
  ];

  it.each(refusals)('refuses %s with connect_error "unauthorized" on both transports', async (_what, auth) => {
    const given = await auth();
    expect(await refusedWith(sys().app.url, given)).toBe('unauthorized');
    expect(await refusedWith(sys().app.url, given, { transports: ['polling'] })).toBe('unauthorized');
  });

  it('holds no connection, lease or socket for any refused attempt', async () => {
    const node = await fetch(`${sys().app.url}/v1/admin/node`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(await node.json()).toMatchObject({ connections: 0 });
    const connections = await fetch(`${sys().app.url}/v1/admin/users/admin/connections`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(await connections.json()).toEqual({ connections: [] });
  });

  describe('cross-site origins with the default CHAT_ALLOWED_ORIGINS (the server\'s own origin only)', () => {
    const token = () => hs(good());

    it.each([
      ['another site', 'https://evil.example.com'],
      ['a look-alike host', 'http://127.0.0.1.evil.example.com'],
      ['the opaque origin of a sandboxed page or file', 'null'],
      ['a non-URL', 'javascript:alert(1)'],
    ])('refuses %s at the Engine.IO handshake on both transports', async (_what, origin) => {
      // Polling: 403 with Engine.IO's error body, before any session exists.
      const polling = await fetch(`${sys().app.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
      expect(polling.status).toBe(403);
      expect(await polling.json()).toEqual({ code: 4, message: 'origin not allowed' });
      // Websocket: the upgrade is refused before any session exists (400, Engine.IO's rule for upgrades).
      const port = new URL(sys().app.url).port;
      const upgrade = await rawHttp(
        sys().app.url,
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16).toString('base64')}\r\n\r\n`,
      );
      expect(upgrade).toMatch(/^HTTP\/1\.1 400 [^]*origin not allowed$/);
      // And a real client with a valid token never connects.
      expect(await refusedWith(sys().app.url, { token: token() }, { transports: ['polling'], extraHeaders: { origin } })).toMatch(/xhr poll error|origin not allowed/);
    });

    it.each<[string, (port: string) => [origin: string, host: string]]>([
      ['a rebound DNS name (Host and Origin agree)', () => ['http://evil.example', 'evil.example']],
      ['a rebound DNS name on the server\'s port', (port) => [`http://evil.example:${port}`, `evil.example:${port}`]],
    ])('refuses %s on both transports: the Host header is never trusted', async (_what, headers) => {
      const [o, h] = headers(new URL(sys().app.url).port);
      const polling = await rawHttp(sys().app.url, `GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: ${h}\r\nOrigin: ${o}\r\nConnection: close\r\n\r\n`);
      expect(polling).toMatch(/^HTTP\/1\.1 403 [^]*origin not allowed/);
      const upgrade = await rawHttp(
        sys().app.url,
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${h}\r\nOrigin: ${o}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16).toString('base64')}\r\n\r\n`,
      );
      expect(upgrade).toMatch(/^HTTP\/1\.1 400 [^]*origin not allowed$/);
      expect(await refusedWith(sys().app.url, { token: token() }, { transports: ['polling'], extraHeaders: { origin: o, host: h } })).toMatch(/xhr poll error|origin not allowed/);
    });

    it('gives a foreign origin no CORS grant, and accepts the server\'s own origin and clients without an Origin', async () => {
      const preflight = await fetch(`${sys().app.url}/socket.io/?EIO=4&transport=polling`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      for (const extraHeaders of [{ origin: sys().app.url }, {}] as Array<Record<string, string>>) {
        const socket = io(sys().app.url, { auth: { token: token() }, transports: ['polling', 'websocket'], extraHeaders, forceNew: true, reconnection: false });
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        socket.disconnect();
      }
    });
  });
});
