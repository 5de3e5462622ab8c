import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '@chat/config';
import { CONFIG } from './tokens';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Bearer CHAT_ADMIN_TOKEN on every admin route: 401 without one, 403 with a wrong one. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(CONFIG) config: Config) {
    this.expected = digest(config.CHAT_ADMIN_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (.+)$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException('bearer token required');
    // Hashing first gives equal lengths, so the comparison takes the same time for any token.
    if (!timingSafeEqual(digest(match[1]!), this.expected)) throw new ForbiddenException('wrong token');
    return true;
  }
}
