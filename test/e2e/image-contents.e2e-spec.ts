import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT, startApp, type AppProcess } from '../support/app-process';
import { createNamespace, TEST_ADMIN_TOKEN } from '../support/namespace';

jest.setTimeout(120_000);

/** The final stage of the Dockerfile: what it copies from the build stage, its environment and its command. */
function finalStage(): { copies: string[]; env: Record<string, string>; cmd: string[] } {
  const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n');
  const stage = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
  const copies = stage.flatMap((l) => /^COPY --from=build \/app\/(\S+) /.exec(l)?.[1] ?? []);
  const env = Object.fromEntries(stage.flatMap((l) => (l.startsWith('ENV ') ? l.slice(4).trim().split(/\s+/).map((kv) => kv.split('=') as [string, string]) : [])));
  const cmd = JSON.parse(stage.find((l) => l.startsWith('CMD '))!.slice(4)) as string[];
  return { copies, env, cmd };
}

describe('the container image', () => {
  // A copy of exactly what the image holds, outside the repository: nothing can be found by
  // walking up into the checkout, as it would not be in a container.
  const image = mkdtempSync(join(tmpdir(), 'chat-image-'));
  const ns = createNamespace('image');
  let app: AppProcess | undefined;

  afterAll(async () => {
    await app?.stop();
    await ns.cleanup();
    rmSync(image, { recursive: true, force: true });
  });

  it('starts from the files its Dockerfile copies and serves the web client, the SDK, the admin page and the API reference', async () => {
    const { copies, env, cmd } = finalStage();
    expect(copies).toContain('dist');
    for (const path of copies) {
      const target = join(image, path);
      // node_modules as built (the image prunes dev dependencies; the build's tree is a superset).
      if (path === 'node_modules') symlinkSync(join(ROOT, path), target, 'dir');
      else cpSync(join(ROOT, path), target, { recursive: true, dereference: true });
      expect(dirname(target).startsWith(image)).toBe(true);
    }
    app = await startApp({ env: { ...ns.env, ...env }, command: { argv: [process.execPath, ...cmd.slice(1)], cwd: image } });
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${app!.url}${path}`, { headers });
      return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
    };
    const page = await get('/');
    expect(page).toMatchObject({ status: 200, type: expect.stringContaining('text/html') });
    expect((await get('/sdk/index.js')).status).toBe(200);
    expect((await get('/app/app.js')).status).toBe(200);
    expect((await get('/admin')).status).toBe(200);
    // The reference page's own files and Swagger UI's, from a production dependency.
    expect(await get('/docs', { accept: 'text/html' })).toMatchObject({ status: 200, type: expect.stringContaining('text/html') });
    expect((await get('/docs/docs.js')).status).toBe(200);
    expect((await get('/docs/swagger-ui-bundle.js')).status).toBe(200);
    expect((await get('/v1/admin/projections', { authorization: `Bearer ${TEST_ADMIN_TOKEN}` })).status).toBe(200);
  });
});
