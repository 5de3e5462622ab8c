import { Controller, Get, Header, InternalServerErrorException } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ASSET_DIR = join('apps', 'api', 'admin-page');
const FILES = ['index.html', 'app.js', 'style.css'] as const;
type AssetName = (typeof FILES)[number];

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
 * `GET /admin`: a live page of the process's figures, plotted in the browser from
 * `GET /metrics` (plain HTML, CSS and JS from `apps/api/admin-page`, no build step). No
 * auth: it shows nothing that /metrics does not already serve openly.
 */
@Controller('admin')
export class AdminPageController {
  private assets?: Record<AssetName, string>;

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  index(): string {
    return this.asset('index.html');
  }

  @Get('app.js')
  @Header('content-type', 'application/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  script(): string {
    return this.asset('app.js');
  }

  @Get('style.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'no-cache')
  style(): string {
    return this.asset('style.css');
  }

  /** The files are read once, at first use. */
  private asset(name: AssetName): string {
    if (!this.assets) {
      const dir = findAdminPageDir();
      if (!dir) throw new InternalServerErrorException(`admin page: no ${ASSET_DIR} above ${__dirname}`);
      this.assets = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(dir, f), 'utf8')])) as Record<AssetName, string>;
    }
    return this.assets[name];
  }
}
