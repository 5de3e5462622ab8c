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
  /** The longest lifetime a token may claim, in seconds (CHAT_JWT_MAX_TTL). */
  maxTtlS?: number;
}

/** 30 days: CHAT_JWT_MAX_TTL's default. */
export const DEFAULT_MAX_TTL_S = 30 * 86_400;

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
      if (!this.lifetimeWithin(payload.exp, payload.iat)) return undefined;
      const did = payload.did;
      if (did !== undefined && (typeof did !== 'string' || !DEVICE_ID.test(did))) return undefined;
      return { userId: payload.sub, exp: payload.exp + this.clockToleranceS, ...(did !== undefined && { deviceId: did }) };
    } catch {
      return undefined;
    }
  }

  /**
   * A token may not live longer than the maximum: counted from its `iat`, or from now when
   * it has none, and never from an `iat` in the future (which would let `exp` be anything).
   * jose checks that `iat` is a number, not where it lies.
   */
  private lifetimeWithin(exp: number, iat: number | undefined): boolean {
    const now = Math.floor(Date.now() / 1000);
    const from = iat === undefined ? now : Math.min(iat, now);
    return exp - from <= (this.expected.maxTtlS ?? DEFAULT_MAX_TTL_S) + this.clockToleranceS;
  }

  /** Development tokens (`CHAT_DEV_TOKENS=1`): valid for a day, or CHAT_JWT_MAX_TTL if shorter. */
  async issue(userId: string, deviceId?: string, ttlSeconds = Math.min(86_400, this.expected.maxTtlS ?? DEFAULT_MAX_TTL_S)): Promise<string> {
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
