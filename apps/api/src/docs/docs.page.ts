import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PAGE_DIR = join('apps', 'api', 'docs-page');

export interface Asset {
  type: string;
  body: string;
}

/** The first `apps/api/docs-page` walking up from here (sources under Jest: `apps/api/src/docs`; built: `dist/apps/api/src/docs`). */
function findPageDir(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, PAGE_DIR, 'index.html'))) return join(dir, PAGE_DIR);
    if (dirname(dir) === dir) throw new Error(`reference page: no ${PAGE_DIR} above ${__dirname}`);
  }
}

/**
 * The reference page's files: its own (HTML, script, style sheet) and Swagger UI's bundle
 * and style sheet from the swagger-ui-dist package, served by this process (no CDN). Only
 * these names can be asked for; each is read once, at first use.
 */
export class DocsPage {
  private readonly files: Record<string, { type: string; path: () => string }> = {
    'docs.js': { type: 'application/javascript; charset=utf-8', path: () => join(findPageDir(), 'docs.js') },
    'docs.css': { type: 'text/css; charset=utf-8', path: () => join(findPageDir(), 'docs.css') },
    'swagger-ui-bundle.js': { type: 'application/javascript; charset=utf-8', path: () => join(swaggerUiDir(), 'swagger-ui-bundle.js') },
    'swagger-ui.css': { type: 'text/css; charset=utf-8', path: () => join(swaggerUiDir(), 'swagger-ui.css') },
  };
  private readonly loaded = new Map<string, Asset>();
  private page?: string;

  html(): string {
    return (this.page ??= readFileSync(join(findPageDir(), 'index.html'), 'utf8'));
  }

  asset(name: string): Asset | undefined {
    if (!Object.prototype.hasOwnProperty.call(this.files, name)) return undefined;
    let asset = this.loaded.get(name);
    if (!asset) {
      const file = this.files[name]!;
      asset = { type: file.type, body: readFileSync(file.path(), 'utf8') };
      this.loaded.set(name, asset);
    }
    return asset;
  }
}

function swaggerUiDir(): string {
  return dirname(require.resolve('swagger-ui-dist/package.json'));
}
