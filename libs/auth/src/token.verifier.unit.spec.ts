import { SignJWT } from 'jose';
import { TokenVerifier } from './token.verifier';

const SECRET = 'unit-test-secret-0123456789abcdef0123456789';

async function tokenExpiringIn(seconds: number): Promise<{ token: string; exp: number }> {
  const exp = Math.floor(Date.now() / 1000) + seconds;
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime(exp).sign(new TextEncoder().encode(SECRET));
  return { token, exp };
}

describe('TokenVerifier clock tolerance', () => {
  it('accepts a token expired by less than the tolerance, and its session ends at exp + tolerance', async () => {
    const { token, exp } = await tokenExpiringIn(-10);
    expect(await new TokenVerifier(SECRET, {}, 30).verify(token)).toEqual({ userId: 'alice', exp: exp + 30 });
  });

  it('refuses a token expired by more than the tolerance', async () => {
    const { token } = await tokenExpiringIn(-60);
    expect(await new TokenVerifier(SECRET, {}, 30).verify(token)).toBeUndefined();
  });

  it('without tolerance refuses any expired token', async () => {
    const { token } = await tokenExpiringIn(-2);
    expect(await new TokenVerifier(SECRET).verify(token)).toBeUndefined();
  });
});

describe('TokenVerifier lifetime limit (CHAT_JWT_MAX_TTL)', () => {
  const key = new TextEncoder().encode(SECRET);
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: { iat?: number; exp: number }) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(key);
  const verifier = new TokenVerifier(SECRET, { maxTtlS: 3600 }, 30);

  it.each([
    ['an iat an hour ago and exp now + 30 s (lifetime at the maximum plus the tolerance)', () => ({ iat: now() - 3600, exp: now() + 30 })],
    ['no iat and exp within the maximum from now', () => ({ exp: now() + 3600 })],
    ['an iat a few seconds ahead (clock drift) and a lifetime at the maximum', () => ({ iat: now() + 5, exp: now() + 3605 - 10 })],
  ])('accepts %s', async (_what, claims) => {
    expect(await verifier.verify(await sign(claims()))).toMatchObject({ userId: 'alice' });
  });

  it.each([
    ['exp 1e300 (a token that lives forever)', () => ({ exp: 1e300 })],
    ['exp 1e300 with iat 1e300 (no lifetime on paper)', () => ({ iat: 1e300, exp: 1e300 })],
    ['an iat two hours ago and an exp still ahead', () => ({ iat: now() - 7200, exp: now() + 60 })],
    ['no iat and exp two hours from now', () => ({ exp: now() + 7200 })],
    ['an iat a day ahead with a lifetime of a minute', () => ({ iat: now() + 86_400, exp: now() + 86_460 })],
  ])('refuses %s', async (_what, claims) => {
    expect(await verifier.verify(await sign(claims()))).toBeUndefined();
  });

  it('defaults to 30 days and issues development tokens within the maximum', async () => {
    expect(await new TokenVerifier(SECRET).verify(await sign({ exp: now() + 29 * 86_400 }))).toMatchObject({ userId: 'alice' });
    expect(await new TokenVerifier(SECRET).verify(await sign({ exp: now() + 31 * 86_400 }))).toBeUndefined();
    const short = new TokenVerifier(SECRET, { maxTtlS: 60 });
    expect(await short.verify(await short.issue('alice'))).toMatchObject({ userId: 'alice' });
  });
});
