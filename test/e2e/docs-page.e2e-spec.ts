import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { clientPayloads, SERVER_EVENT_NAMES } from '@chat/contracts';
import { asyncApiDocument } from '../../apps/api/src/docs/asyncapi.document';
import { openApiDocument } from '../../apps/api/src/docs/openapi.document';
import { ROUTES } from '../../apps/api/src/admin.routes';
import { useSystem } from '../support/system';

jest.setTimeout(120_000);

// Functions given to page.evaluate run in the browser; the repo's tsconfig has no DOM lib.
declare const document: any;
declare const window: any;

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUTPUT = join(__dirname, '..', '..', 'test-output');

/** What a page did that a person would not want: errors, and every URL it asked for. */
function watch(page: Page) {
  const problems: string[] = [];
  const urls: string[] = [];
  page.on('pageerror', (err) => problems.push(String(err)));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} for ${r.url()}`);
  });
  page.on('request', (r) => urls.push(r.url()));
  return { problems, urls };
}

const until = (page: Page, what: (arg: any) => unknown, arg?: unknown) => page.waitForFunction(what, arg, { timeout: 20_000, polling: 50 });

describe('the API reference at /docs', () => {
  const sys = useSystem('docspage');
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    browser = await chromium.launch({ headless: true, executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('answers the OpenAPI document to JSON clients as before, the page to browsers, and both documents at their own paths', async () => {
    const { url } = sys().app;
    const get = (path: string, accept?: string) => fetch(`${url}${path}`, { headers: accept ? { accept } : {} });
    const openApi = JSON.parse(JSON.stringify(openApiDocument()));
    for (const accept of ['application/json', '*/*', undefined]) {
      const res = await get('/docs', accept);
      expect({ accept, status: res.status, type: res.headers.get('content-type') }).toEqual({ accept, status: 200, type: expect.stringContaining('application/json') });
      expect(res.headers.get('vary')).toMatch(/accept/i);
      expect(await res.json()).toEqual(openApi);
    }
    const html = await get('/docs', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(html.headers.get('content-type')).toContain('text/html');
    const text = await html.text();
    expect(text).toContain('href="/docs/openapi.json"');
    expect(text).toContain('href="/docs/asyncapi.json"');
    expect(text).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing from another origin

    expect(await (await get('/docs/openapi.json')).json()).toEqual(openApi);
    const host = new URL(url).host;
    expect(await (await get('/docs/asyncapi.json')).json()).toEqual(JSON.parse(JSON.stringify(asyncApiDocument(host))));

    for (const [path, type, marker] of [
      ['/docs/swagger-ui-bundle.js', 'application/javascript', 'SwaggerUIBundle'],
      ['/docs/swagger-ui.css', 'text/css', '.swagger-ui'],
      ['/docs/docs.js', 'application/javascript', '/docs/asyncapi.json'],
      ['/docs/docs.css', 'text/css', '.event'],
    ] as const) {
      const res = await get(path);
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({ path, status: 200, type: expect.stringContaining(type) });
      expect((await res.text()).slice(0, 2_000_000)).toContain(marker);
    }
    for (const path of ['/docs/index.html', '/docs/package.json', '/docs/..%2F..%2Fpackage.json', '/docs/swagger-ui-bundle.js.map']) {
      expect({ path, status: (await get(path)).status }).toEqual({ path, status: 404 });
    }
  });

  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    it(`renders every route and every event for a person, at ${viewport.width}x${viewport.height}, asking nothing of another origin`, async () => {
      const { url } = sys().app;
      const page = await browser.newPage({ viewport });
      const seen = watch(page);
      const res = await page.goto(`${url}/docs`);
      expect(res?.status()).toBe(200);
      expect(await page.title()).toBe('chat-backend — API reference');

      // Swagger UI has drawn the document: its title and one operation per route.
      await until(page, (n: number) => document.querySelectorAll('#swagger-ui .opblock').length >= n, ROUTES.length);
      expect(await page.locator('#swagger-ui .info .title').first().innerText()).toContain('chat-backend HTTP API');
      expect(await page.locator('#swagger-ui .opblock').count()).toBe(ROUTES.length);
      expect(await page.locator('#swagger-ui .opblock-summary-path').first().isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: /authorize/i }).isVisible()).toBe(true);
      await expect(page.locator('#link-openapi').getAttribute('href')).resolves.toBe('/docs/openapi.json');
      await expect(page.locator('#link-asyncapi').getAttribute('href')).resolves.toBe('/docs/asyncapi.json');
      expect(await page.locator('#link-openapi').isVisible()).toBe(true);
      expect(await page.locator('#link-asyncapi').isVisible()).toBe(true);

      await page.screenshot({ path: join(OUTPUT, `docs-top-${viewport.width}.png`), fullPage: false });

      // A person opens an operation and sees its example answer.
      const send = page.locator('#swagger-ui .opblock-post', { hasText: '/v1/server/conversations/{id}/messages' });
      await send.locator('.opblock-summary').click();
      await until(page, () => document.querySelector('#swagger-ui .opblock-post.is-open .responses-wrapper') !== null);
      expect(await send.innerText()).toContain('duplicate');
      await page.screenshot({ path: join(OUTPUT, `docs-http-${viewport.width}.png`), fullPage: false });

      // The events tab: every client event with its ack, every server event.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.locator('a[data-tab="events"]').click();
      await until(page, () => !document.getElementById('events').hidden && document.getElementById('http').hidden);
      await until(page, (n: number) => document.querySelectorAll('#client-events .event').length === n, Object.keys(clientPayloads).length);
      expect(page.url()).toMatch(/#events$/);
      const clientEvents = await page.$$eval('#client-events .event', (els: any[]) => els.map((e) => e.dataset.event));
      expect(clientEvents.sort()).toEqual(Object.keys(clientPayloads).sort());
      const serverEvents = await page.$$eval('#server-events .event', (els: any[]) => els.map((e) => e.dataset.event));
      expect(serverEvents.sort()).toEqual([...SERVER_EVENT_NAMES].sort());
      const sendEvent = page.locator('#client-events .event[data-event="message:send"]');
      await sendEvent.locator('summary').click();
      expect(await sendEvent.locator('pre').first().isVisible()).toBe(true);
      const opened = await sendEvent.innerText();
      expect(opened).toContain('Ack (accepted)');
      expect(opened).toContain('"clientMsgId"');
      await page.screenshot({ path: join(OUTPUT, `docs-events-${viewport.width}.png`), fullPage: false });

      // The page does not scroll sideways: wide code scrolls inside its own box.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      expect(seen.problems).toEqual([]);
      const origin = new URL(url).origin;
      expect(seen.urls.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
      await page.close();
    });
  }
});
