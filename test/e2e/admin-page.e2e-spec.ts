import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { TestClient } from '../support/clients';
import { useSystem } from '../support/system';

jest.setTimeout(120_000);

// Functions given to page.evaluate run in the browser; the repo's tsconfig has no DOM lib.
declare const document: any;
declare const window: any;

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUTPUT = join(__dirname, '..', '..', 'test-output');
const PLOTS = ['plot-connections', 'plot-messages', 'plot-latency', 'plot-lag'];

/** alice and bob write to each other a few times a second until stopped. */
function startTraffic(alice: TestClient, bob: TestClient, conversationId: string) {
  let running = true;
  let sent = 0;
  const errors: string[] = [];
  const loop = (async () => {
    while (running) {
      const from = sent % 2 === 0 ? alice : bob;
      try {
        await from.ok('message:send', { conversationId, clientMsgId: `admin-page-${sent}`, body: `figure ${sent}` });
        sent++;
      } catch (err) {
        errors.push((err as Error).message);
        if (errors.length > 5) break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    sent: () => sent,
    errors,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe('admin page', () => {
  const sys = useSystem('adminpage');
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
  });

  it('serves its three files with their content types, without auth', async () => {
    const url = sys().app.url;
    for (const [path, type, marker] of [
      ['/admin', 'text/html', 'chat — live'],
      ['/admin/app.js', 'application/javascript', '/metrics'],
      ['/admin/style.css', 'text/css', '.plot'],
    ]) {
      const res = await fetch(`${url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers.get('content-type')).toContain(type);
      expect(await res.text()).toContain(marker);
    }
    const html = await (await fetch(`${url}/admin`)).text();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing from another origin
  });

  it('plots live connections, message rate, delivery latency and projection lag from /metrics in a real browser', async () => {
    const { url } = sys().app;
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    const traffic = startTraffic(alice, bob, conversation.id);
    try {
      browser = await chromium.launch({ headless: true, executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(String(err)));

      const res = await page.goto(`${url}/admin`);
      expect(res?.status()).toBe(200);
      expect(await page.title()).toBe('chat — live');

      // Two samples plotted, then at least one accepted send counted by the page's parser.
      await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 30_000, polling: 100 });
      await page.waitForFunction(() => (window.__lastSample?.sendsAccepted ?? 0) >= 1, undefined, { timeout: 30_000, polling: 100 });
      // Every plot has a line of at least two points (latency needs deliveries in two intervals).
      await page.waitForFunction(
        (ids: string[]) => ids.every((id) => [...document.querySelectorAll(`#${id} path.series`)].some((p: any) => /L/.test(p.getAttribute('d') ?? ''))),
        PLOTS,
        { timeout: 45_000, polling: 200 },
      );

      const sample = await page.evaluate(() => {
        const s = window.__lastSample;
        return { connections: s.connections, sendsAccepted: s.sendsAccepted, latencyCount: s.latency?.count ?? 0, lag: s.lag };
      });
      expect(sample.connections).toBeGreaterThanOrEqual(2); // alice and bob
      expect(sample.sendsAccepted).toBeGreaterThanOrEqual(1);
      expect(sample.latencyCount).toBeGreaterThanOrEqual(1);
      expect(sample.lag).toBeGreaterThanOrEqual(0);

      const plots = await page.evaluate((ids: string[]) =>
        ids.map((id) => {
          const section = document.getElementById(id);
          return {
            id,
            title: section?.querySelector('h2')?.textContent ?? '',
            current: section?.querySelector('[data-current]')?.textContent ?? '',
            axisLabels: [...(section?.querySelectorAll('.axis-label') ?? [])].map((t: any) => t.textContent),
            paths: [...(section?.querySelectorAll('path.series') ?? [])].map((p: any) => p.getAttribute('d') ?? ''),
          };
        }),
      PLOTS);
      for (const plot of plots) {
        expect(plot.paths.length).toBeGreaterThanOrEqual(1);
        expect(plot.paths.some((d) => /^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+/.test(d))).toBe(true);
        expect(plot.current).toMatch(/\d/); // the current value next to the title
        expect(plot.axisLabels).toHaveLength(2);
      }
      expect(plots.find((p) => p.id === 'plot-latency')!.paths).toHaveLength(3); // p50, p90, p99
      expect(plots.find((p) => p.id === 'plot-latency')!.current).toMatch(/p50 .* p90 .* p99 .* ms/);
      expect(plots.find((p) => p.id === 'plot-messages')!.current).toMatch(/msg\/s/);

      expect(await page.locator('#status').isHidden()).toBe(true);
      expect(await page.locator('#last-sample').textContent()).toMatch(/^\d\d:\d\d:\d\d$/);
      expect(pageErrors).toEqual([]);

      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, 'admin-page.png'), fullPage: true });
    } finally {
      await traffic.stop();
    }
    expect(traffic.errors).toEqual([]);
    expect(traffic.sent()).toBeGreaterThan(0);
  });
});
