import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';

jest.setTimeout(120_000);

/** The page's DOM, as the functions run inside the browser see it (the repo's tsconfig has no DOM lib). */
declare const document: {
  querySelectorAll(selector: string): Iterable<{ textContent: string | null }>;
  getElementById(id: string): { textContent: string | null } | null;
};

const OUT = join(__dirname, '..', '..', 'test-output');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the web client in headless Chromium', () => {
  const sys = useSystem('webclient', { ...UNLIMITED, CHAT_DEV_TOKENS: '1' });
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ headless: true, executablePath: '/usr/bin/chromium', args: ARGS });
  });
  afterAll(async () => browser?.close());

  async function signIn(name: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1000, height: 640 } })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${sys().app.url}/`);
    await page.fill('#name', name);
    await page.click('#signin button');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('#offline[hidden]', { state: 'attached' });
    expect(errors).toEqual([]);
    return page;
  }
  const messages = (page: Page) => page.$$eval('#messages li .body', (els) => els.map((e) => e.textContent));

  it('lets two users chat, see typing and presence, and catch up after going offline', async () => {
    const bob = await signIn('bob');
    const alice = await signIn('alice');
    await alice.fill('#members', 'bob');
    await alice.click('#new button');
    await alice.waitForSelector('#compose:not([hidden])');
    await alice.fill('#text', 'hello bob');
    await alice.press('#text', 'Enter');

    // Bob's list shows the conversation with an unread badge; he opens it and reads.
    await bob.waitForSelector('#conversations li .badge');
    await bob.click('#conversations li');
    await bob.waitForFunction(() => [...document.querySelectorAll('#messages li .body')].some((e) => e.textContent === 'hello bob'));
    // Bob types: Alice sees it; Bob's presence dot is green on Alice's side once he wrote.
    await bob.type('#text', 'hi al', { delay: 50 });
    await alice.waitForFunction(() => document.getElementById('typing')!.textContent === 'bob is typing…');
    await bob.type('#text', 'ice');
    await bob.press('#text', 'Enter');
    await alice.waitForFunction(() => [...document.querySelectorAll('#messages li .body')].some((e) => e.textContent === 'hi alice'));
    await alice.waitForSelector('#messages li:not(.mine) .dot.online');
    await alice.screenshot({ path: join(OUT, 'web-alice.png') });

    // Bob goes offline: the banner shows; Alice writes three messages; Bob comes back and catches up.
    await bob.context().setOffline(true);
    await bob.waitForSelector('#offline:not([hidden])', { timeout: 60_000 });
    for (const text of ['while you were away 1', 'while you were away 2', 'while you were away 3']) {
      await alice.fill('#text', text);
      await alice.press('#text', 'Enter');
    }
    await bob.screenshot({ path: join(OUT, 'web-bob-offline.png') });
    await bob.context().setOffline(false);
    await bob.waitForSelector('#offline[hidden]', { state: 'attached', timeout: 60_000 });
    await bob.waitForFunction(() => [...document.querySelectorAll('#messages li .body')].filter((e) => e.textContent!.startsWith('while you were away')).length === 3);
    expect(await messages(bob)).toEqual(['hello bob', 'hi alice', 'while you were away 1', 'while you were away 2', 'while you were away 3']);
    expect(await messages(alice)).toEqual(['hello bob', 'hi alice', 'while you were away 1', 'while you were away 2', 'while you were away 3']);
    expect(await alice.textContent('#title')).toBe('bob');
    await bob.screenshot({ path: join(OUT, 'web-bob-caught-up.png') });
  });
});
