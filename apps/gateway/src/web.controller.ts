import { Controller, Get, Header, HttpCode, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The first folder above this file that holds `relative` (sources under Jest, dist/ when built). */
function find(relative: string): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, relative))) return join(dir, relative);
  throw new Error(`${relative} not found above ${__dirname}`);
}

const TYPES: Record<string, string> = { '.js': 'application/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** The web client at `/`: static files and the SDK as ES modules (the package build in libs/client/dist). */
@Controller()
export class WebController {
  private readonly publicDir = find('apps/web/public');
  private readonly sdkDir = find('libs/client/dist/libs/client/src');

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  index(): string {
    return readFileSync(join(this.publicDir, 'index.html'), 'utf8');
  }

  /** No icon, said without an error: browsers ask every page's origin for one, and log a 404. */
  @Get('favicon.ico')
  @HttpCode(204)
  favicon(): void {}

  @Get('app/:file')
  app(@Param('file') file: string, @Res({ passthrough: true }) res: Response): string {
    return this.serve(this.publicDir, file, res);
  }

  @Get('sdk/:file')
  sdk(@Param('file') file: string, @Res({ passthrough: true }) res: Response): string {
    return this.serve(this.sdkDir, file, res);
  }

  private serve(dir: string, file: string, res: Response): string {
    const type = TYPES[file.slice(file.lastIndexOf('.'))];
    // One file name, no path: nothing outside the folder can be asked for.
    if (!/^[a-z0-9._-]+$/i.test(file) || !type || !existsSync(join(dir, file))) throw new NotFoundException();
    res.type(type);
    return readFileSync(join(dir, file), 'utf8');
  }
}
