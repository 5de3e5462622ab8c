import { jwtVerify, SignJWT } from 'jose';
import type { Config } from '@chat/config';
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
    return exp - from <= this.maxTtlS + this.clockToleranceS;
  }

  /** The longest lifetime `issue` may give a token, in seconds (CHAT_JWT_MAX_TTL). */
  get maxTtlS(): number {
    return this.expected.maxTtlS ?? DEFAULT_MAX_TTL_S;
  }

  /**
   * A client token (development tokens, the server API's `POST /v1/server/tokens`): valid
   * for a day by default, or CHAT_JWT_MAX_TTL if shorter; `iss`/`aud` when configured.
   */
  async issue(userId: string, deviceId?: string, ttlSeconds = Math.min(86_400, this.maxTtlS)): Promise<string> {
    return (await this.mint(userId, deviceId, ttlSeconds)).token;
  }

  /** `issue`, with the token's `exp` (epoch seconds). */
  async mint(userId: string, deviceId: string | undefined, ttlSeconds: number): Promise<{ token: string; exp: number }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + ttlSeconds;
    const jwt = new SignJWT(deviceId ? { did: deviceId } : {});
    if (this.expected.issuer !== undefined) jwt.setIssuer(this.expected.issuer);
    if (this.expected.audience !== undefined) jwt.setAudience(this.expected.audience);
    const token = await jwt.setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(userId).setIssuedAt(now).setExpirationTime(exp).sign(this.key);
    return { token, exp };
  }
}

/** The deployment's client tokens, as configured (CHAT_JWT_*): the same checks on every gateway, the same claims from every issuer. */
export function clientTokens(config: Config): TokenVerifier {
  return new TokenVerifier(
    config.CHAT_JWT_SECRET,
    { issuer: config.CHAT_JWT_ISSUER, audience: config.CHAT_JWT_AUDIENCE, maxTtlS: Math.floor(config.CHAT_JWT_MAX_TTL / 1000) },
    config.CHAT_JWT_CLOCK_TOLERANCE,
  );
}
