import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { TokenVerifier } from '@chat/auth';
import type { HttpAnswer } from '@chat/contracts';
import { isUserId } from '@chat/domain';

/** `GET /v1/dev/token?user=ID`: exists only with CHAT_DEV_TOKENS=1, for the local quick start. */
@Controller('v1/dev')
export class DevTokenController {
  constructor(private readonly verifier: TokenVerifier) {}

  @Get('token')
  async token(@Query('user') user?: string, @Query('device') device?: string): Promise<HttpAnswer<'devToken'>> {
    if (typeof user !== 'string' || !isUserId(user)) throw new BadRequestException('user: 1-64 chars of [A-Za-z0-9_.:@-]');
    if (device !== undefined && (typeof device !== 'string' || !isUserId(device))) throw new BadRequestException('device: 1-64 chars of [A-Za-z0-9_.:@-]');
    return { token: await this.verifier.issue(user, device) };
  }
}
