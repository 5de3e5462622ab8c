import { jwtVerify, SignJWT } from 'jose';
import { isUserId } from '@chat/domain';

/** Who is on the other end of a socket, from its handshake token. */
export interface Session {
  userId: string;
  deviceId?: string;
  /**
   * When the session ends, epoch seconds: the token's `exp` plus the clock tolerance (the
   * same bound the handshake accepted it by). A socket outliving it gets UNAUTHORIZED.
   */
  exp: number;
}

const DEVICE_ID = /^[A-Za-z0-9_.:@-]{1,64}$/;

/** Claims a token must carry when configured (`CHAT_JWT_ISSUER`, `CHAT_JWT_AUDIENCE`). */
export interface ExpectedClaims {
  issuer?: string;
  audience?: string;
}

/** HS256 only: pinning the algorithm refuses `alg: none` and key-confusion tricks. */
export class TokenVerifier {
  private readonly key: Uint8Array;

  /** `clockToleranceS`: how far the issuer's clock and this one may disagree (CHAT_JWT_CLOCK_TOLERANCE). */
  constructor(
    secret: string,
    private readonly expected: ExpectedClaims = {},
    private readonly clockToleranceS = 0,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** The session, or `undefined` for a missing, expired, badly signed or malformed token. */
  async verify(token: unknown): Promise<Session | undefined> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return undefined;
    try {
      const { issuer, audience } = this.expected;
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: this.clockToleranceS,
        ...(issuer !== undefined && { issuer }),
        ...(audience !== undefined && { audience }),
      });
      if (typeof payload.sub !== 'string' || !isUserId(payload.sub) || typeof payload.exp !== 'number') return undefined;
      const did = payload.did;
      if (did !== undefined && (typeof did !== 'string' || !DEVICE_ID.test(did))) return undefined;
      return { userId: payload.sub, exp: payload.exp + this.clockToleranceS, ...(did !== undefined && { deviceId: did }) };
    } catch {
      return undefined;
    }
  }

  /** Development tokens (`CHAT_DEV_TOKENS=1`): valid for a day. */
  async issue(userId: string, deviceId?: string, ttlSeconds = 86_400): Promise<string> {
    const jwt = new SignJWT(deviceId ? { did: deviceId } : {});
    if (this.expected.issuer !== undefined) jwt.setIssuer(this.expected.issuer);
    if (this.expected.audience !== undefined) jwt.setAudience(this.expected.audience);
    return jwt
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.key);
  }
}
