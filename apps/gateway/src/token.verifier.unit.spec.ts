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
