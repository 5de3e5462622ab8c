import { Controller, Get, Header, InternalServerErrorException, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

const ASSET_DIR = join('apps', 'api', 'admin-page');
const TYPES: Record<string, string> = { '.js': 'application/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * The folder of the page's static files: the first `apps/api/admin-page` found walking up
 * from here (sources under Jest: `apps/api/src`; built: `dist/apps/api/src`).
 */
export function findAdminPageDir(from: string = __dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, ASSET_DIR);
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * `GET /admin`: the admin page, plain HTML, CSS and ES modules from `apps/api/admin-page`
 * (no build step). The page and its files need no auth: the live plots read the open
 * `/metrics`, and everything else the page shows comes from the admin API with the token
 * the operator types in, sent as a bearer header from the browser.
 */
@Controller('admin')
export class AdminPageController {
  private assets?: Map<string, string>;

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  index(): string {
    return this.load().get('index.html')!;
  }

  /** One of the page's scripts or its style sheet: a plain file name of the folder, nothing else. */
  @Get(':file')
  @Header('cache-control', 'no-cache')
  file(@Param('file') file: string, @Res({ passthrough: true }) res: Response): string {
    const text = TYPES[extname(file)] ? this.load().get(file) : undefined;
    if (text === undefined) throw new NotFoundException(`no file ${file} in the admin page`);
    res.type(TYPES[extname(file)]!);
    return text;
  }

  /**
   * The folder's files, read once at first use; only those listed then can be served, so a
   * request names a key of this map, never a path.
   */
  private load(): Map<string, string> {
    if (!this.assets) {
      const dir = findAdminPageDir();
      if (!dir) throw new InternalServerErrorException(`admin page: no ${ASSET_DIR} above ${__dirname}`);
      const names = readdirSync(dir).filter((f) => f === 'index.html' || TYPES[extname(f)]);
      this.assets = new Map(names.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    }
    return this.assets;
  }
}
