import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { refusedWith, tokenFor, waitForEvents, type TestClient } from '../support/clients';
import { TEST_ADMIN_TOKEN } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

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

/** What a page did that a person would not want: errors, and every URL it asked for. */
function watch(page: Page) {
  const problems: string[] = [];
  /** Refusals the browser logs for answers of 4xx: the test says which it caused on purpose. */
  const refused: string[] = [];
  const urls: string[] = [];
  page.on('pageerror', (err) => problems.push(String(err)));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) refused.push(m.location().url);
    else problems.push(m.text());
  });
  page.on('request', (r) => urls.push(r.url()));
  return { problems, refused, urls };
}

/** The visible rows of a table, cell texts trimmed. */
const rows = (page: Page, selector: string): Promise<string[][]> =>
  page.$$eval(`${selector} tbody tr`, (trs: any[]) => trs.map((tr) => [...tr.children].map((td: any) => (td.textContent ?? '').trim())));

const bodies = (page: Page): Promise<string[]> => page.$$eval('#messages li .body', (els: any[]) => els.map((e) => e.textContent));

/** A condition on the page, polled with a deadline. */
const until = (page: Page, what: (arg: any) => unknown, arg?: unknown) => page.waitForFunction(what, arg, { timeout: 20_000, polling: 50 });

/** The page does not scroll sideways: what is wider (tables) scrolls inside its own box. */
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe('admin page', () => {
  const sys = useSystem('adminpage');
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    // launch() gives Chromium a fresh temporary profile (it refuses --user-data-dir in args).
    browser = await chromium.launch({ headless: true, executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('serves its page, ES modules and style sheet with their content types, without auth, and nothing else', async () => {
    const url = sys().app.url;
    for (const [path, type, marker] of [
      ['/admin', 'text/html', 'chat — admin'],
      ['/admin/app.js', 'application/javascript', "from './live.js'"],
      ['/admin/live.js', 'application/javascript', '/metrics'],
      ['/admin/api.js', 'application/javascript', 'sessionStorage'],
      ['/admin/user.js', 'application/javascript', '/push-decisions'],
      ['/admin/conversation.js', 'application/javascript', 'beforeSeq'],
      ['/admin/projections.js', 'application/javascript', '/rebuild'],
      ['/admin/storage.js', 'application/javascript', '/v1/admin/storage'],
      ['/admin/reports.js', 'application/javascript', '/v1/admin/reports'],
      ['/admin/dom.js', 'application/javascript', 'export function h('],
      ['/admin/style.css', 'text/css', '.plot'],
    ]) {
      const res = await fetch(`${url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers.get('content-type')).toContain(type);
      expect(await res.text()).toContain(marker);
    }
    for (const path of ['/admin/nope.js', '/admin/index.html', '/admin/..%2Fsrc%2Fmain.js', '/admin/..%2F..%2F..%2Fpackage.json']) {
      expect({ path, status: (await fetch(`${url}${path}`)).status }).toEqual({ path, status: 404 });
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
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(String(err)));

      const res = await page.goto(`${url}/admin`);
      expect(res?.status()).toBe(200);
      expect(await page.title()).toBe('chat — admin');

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

      await page.screenshot({ path: join(OUTPUT, 'admin-page.png'), fullPage: true });
      await page.close();
    } finally {
      await traffic.stop();
    }
    expect(traffic.errors).toEqual([]);
    expect(traffic.sent()).toBeGreaterThan(0);
  });

  it('looks up users and conversations, shows projections with lag, runs a rebuild to done and storage per tier, with the token typed once per tab', async () => {
    const { url } = sys().app;
    const admin = (path: string) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }).then((r) => r.json() as Promise<any>);

    // Real clients: ann on two devices, ben on one; cat never connects (offline, no devices).
    const ann = await sys().connect('ann', { deviceId: 'laptop' });
    await sys().connect('ann', { deviceId: 'phone' });
    const ben = await sys().connect('ben');
    const direct = (await ann.ok('conversation:create', { type: 'direct', members: ['ben'] })).conversation;
    const hello: number[] = [];
    for (const n of [1, 2, 3]) hello.push((await ann.ok('message:send', { conversationId: direct.id, clientMsgId: `hello-${n}`, body: `hello ben ${n}` })).seq);
    const reply = (await ben.ok('message:send', { conversationId: direct.id, clientMsgId: 'reply', body: 'hi ann' })).seq;
    await ann.ok('message:edit', { conversationId: direct.id, seq: hello[0], body: 'hello ben 1 (edited)' });
    await ben.ok('reaction:add', { conversationId: direct.id, seq: hello[1], emoji: '👍' });
    await ben.ok('read', { conversationId: direct.id, seq: reply });
    const group = (await ann.ok('conversation:create', { type: 'group', title: 'Ops review', members: ['ben', 'cat'] })).conversation;
    const notes: number[] = [];
    for (let n = 1; n <= 25; n++) notes.push((await ann.ok('message:send', { conversationId: group.id, clientMsgId: `note-${n}`, body: `ops note ${n}` })).seq);
    // What the page will show is stored: the projection has both conversations, the notifier decided for cat.
    await waitFor('the group projected', async () => (await admin(`/v1/admin/conversations/${group.id}`)).conversation?.messageCount === 25);
    await waitFor('the direct conversation projected', async () => (await admin(`/v1/admin/conversations/${direct.id}`)).members?.find((m: any) => m.userId === 'ben')?.lastReadSeq === reply);
    await waitFor("cat's 25 push decisions", async () => (await admin('/v1/admin/users/cat/push-decisions?limit=200')).decisions?.length === 25);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const seen = watch(page);
    await page.goto(`${url}/admin`);
    expect(await page.title()).toBe('chat — admin');

    // Before the token: the live plots only; the admin tabs and panels are not shown.
    expect(await page.locator('#token').isVisible()).toBe(true);
    expect(await page.locator('#tab-live').isVisible()).toBe(true);
    for (const tab of ['user', 'conversation', 'reports', 'projections', 'storage']) {
      expect({ tab, link: await page.locator(`[data-tab="${tab}"]`).isVisible(), panel: await page.locator(`#tab-${tab}`).isVisible() }).toEqual({ tab, link: false, panel: false });
    }
    expect(await page.locator('#auth-ok').isVisible()).toBe(false);
    expect(await page.locator('#auth-error').isVisible()).toBe(false);

    // Nothing typed, then a wrong token: refused in words, nothing kept, still no admin tabs.
    await page.click('#auth button[type=submit]');
    expect(await page.locator('#auth-error').innerText()).toBe('Type the admin token (CHAT_ADMIN_TOKEN) first.');
    await page.fill('#token', 'not-the-admin-token');
    await page.press('#token', 'Enter');
    await until(page, () => document.getElementById('auth-error').innerText === 'The server refused this admin token (wrong token).');
    expect(await page.locator('[data-tab="user"]').isVisible()).toBe(false);
    expect(await page.evaluate(() => window.sessionStorage.length)).toBe(0);
    await page.screenshot({ path: join(OUTPUT, 'admin-wrong-token.png') });

    // The right token: kept for the tab, the form and the error go, the tabs come.
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await page.press('#token', 'Enter');
    await page.locator('#auth-ok').waitFor({ state: 'visible' });
    expect(await page.locator('#auth').isVisible()).toBe(false);
    expect(await page.locator('#auth-error').isVisible()).toBe(false);
    expect(await page.locator('#tabs a:visible').allInnerTexts()).toEqual(['Live', 'User', 'Conversation', 'Reports', 'Projections', 'Storage']);

    // A user online on two devices: presence, both leases, both conversations with their last message.
    // The link sets the #fragment; the tab changes on hashchange, a task after the click returns.
    await page.click('[data-tab="user"]');
    await page.locator('#tab-user').waitFor({ state: 'visible' });
    expect(await page.locator('#tab-live').isVisible()).toBe(false);
    await page.fill('#user-id', 'ann');
    await page.press('#user-id', 'Enter');
    await until(page, () => document.getElementById('user-name')?.textContent === 'ann');
    expect(await page.locator('#user-presence .presence').innerText()).toBe('online');
    expect(await page.locator('#user-connections-part .count').innerText()).toBe('2 connections');
    const leases = await rows(page, '#user-connections');
    expect(leases).toHaveLength(2);
    for (const [connection, node, epoch, expires] of leases) {
      expect(connection).not.toBe('');
      expect(node).not.toBe('');
      expect(epoch).toMatch(/^\d+$/);
      expect(expires).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    }
    expect(await page.locator('#user-conversations-part .count').innerText()).toBe('2 conversations');
    const annConversations = await rows(page, '#user-conversations');
    expect(annConversations.map(([id, type, title, members, lastSeq, , last]) => ({ id, type, title, members, lastSeq, last }))).toEqual([
      { id: group.id, type: 'group', title: 'Ops review', members: '3', lastSeq: String(notes[24]), last: 'ann: ops note 25' },
      { id: direct.id, type: 'direct', title: '–', members: '2', lastSeq: expect.stringMatching(/^\d+$/), last: 'ben: hi ann' },
    ]);
    await page.screenshot({ path: join(OUTPUT, 'admin-user.png'), fullPage: true });

    // A user who never connected: offline, no connections, and a push decision for each of the 25 notes, paged.
    await page.fill('#user-id', 'cat');
    await page.press('#user-id', 'Enter');
    await until(page, () => document.getElementById('user-name')?.textContent === 'cat');
    expect(await page.locator('#user-presence .presence').innerText()).toBe('offline, never seen online');
    expect(await page.locator('#user-connections-part .count').innerText()).toBe('No live connections.');
    expect(await page.locator('#user-connections').isVisible()).toBe(false);
    expect(await page.locator('#user-conversations-part .count').innerText()).toBe('1 conversation');
    expect(await page.locator('#user-decisions-part .count').innerText()).toBe('20 decisions shown; there are more');
    expect(await rows(page, '#user-decisions')).toHaveLength(20);
    await page.click('#user-decisions-part button.more');
    await until(page, () => document.querySelectorAll('#user-decisions tbody tr').length === 25);
    expect(await page.locator('#user-decisions-part .count').innerText()).toBe('25 decisions');
    expect(await page.locator('#user-decisions-part button.more').isVisible()).toBe(false);
    const decisions = await rows(page, '#user-decisions');
    expect(decisions.map(([, conversation]) => conversation)).toEqual(Array(25).fill(group.id));
    expect(decisions.map(([, , seq]) => Number(seq)).sort((a, b) => a - b)).toEqual(notes);
    for (const [, , , messages, decision] of decisions) {
      expect(messages).toBe('1');
      expect(decision).toMatch(/^(no_device|idle)$/);
    }

    // A user id the server refuses: its words, in place of the result.
    await page.fill('#user-id', 'not a user!');
    await page.press('#user-id', 'Enter');
    await until(page, () => document.querySelector('#user-result .error')?.textContent === 'The server refused the request: userId: not a user id.');
    expect(await page.locator('#user-name').count()).toBe(0);

    // The group, opened from a user's list: its record, members, and the latest page of messages.
    await page.fill('#user-id', 'cat');
    await page.press('#user-id', 'Enter');
    await until(page, () => document.getElementById('user-name')?.textContent === 'cat');
    await page.click(`#user-conversations button:text-is("${group.id}")`);
    await until(page, () => document.querySelectorAll('#messages li').length > 0);
    expect(page.url()).toMatch(/#conversation$/);
    expect(await page.locator('#tab-user').isVisible()).toBe(false);
    expect(await page.inputValue('#conversation-id')).toBe(group.id);
    const details = await page.$$eval('#conversation-details dt', (dts: any[]) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
    expect(details).toMatchObject({ Id: group.id, Type: 'group', Title: 'Ops review', 'Created by': 'ann', Messages: '25', Members: '3', 'Last seq': String(notes[24]) });
    expect((await rows(page, '#conversation-members')).map(([user]) => user)).toEqual(['ann', 'ben', 'cat']);
    expect(await page.locator('#conversation-members-part .count').innerText()).toBe('3 members');
    // The latest 20 of 25, oldest first; the older ones on request.
    expect(await bodies(page)).toEqual(Array.from({ length: 20 }, (_, i) => `ops note ${i + 6}`));
    expect(await page.locator('#messages-count').innerText()).toBe(`Showing 20 of 25 messages, seq ${notes[5]} to ${notes[24]}.`);
    expect(await page.locator('#older').isVisible()).toBe(true);
    expect(await page.locator('#messages-start').isVisible()).toBe(false);
    await page.click('#older');
    await until(page, () => document.querySelectorAll('#messages li').length === 25);
    expect(await bodies(page)).toEqual(Array.from({ length: 25 }, (_, i) => `ops note ${i + 1}`));
    expect(await page.locator('#messages-count').innerText()).toBe(`Showing 25 of 25 messages, seq ${notes[0]} to ${notes[24]}.`);
    expect(await page.locator('#older').isVisible()).toBe(false);
    expect(await page.locator('#messages-start').innerText()).toBe('Start of the conversation: nothing older.');
    await page.screenshot({ path: join(OUTPUT, 'admin-conversation.png'), fullPage: true });

    // The direct conversation, typed in: fewer messages than a page, with the edit and the reaction.
    await page.fill('#conversation-id', direct.id);
    await page.press('#conversation-id', 'Enter');
    await until(page, (id: string) => document.querySelector('#conversation-details dd code')?.textContent === id, direct.id);
    expect(await bodies(page)).toEqual(['hello ben 1 (edited)', 'hello ben 2', 'hello ben 3', 'hi ann']);
    expect(await page.locator('#messages li').nth(0).locator('.tag').allInnerTexts()).toEqual(['edited']);
    expect(await page.locator('#messages li').nth(1).locator('.reaction').innerText()).toBe('👍 1');
    expect(await page.locator('#messages li .sender').allInnerTexts()).toEqual(['ann', 'ann', 'ann', 'ben']);
    expect(await page.locator('#older').isVisible()).toBe(false);
    expect(await page.locator('#messages-start').isVisible()).toBe(true);
    const benRow = (await rows(page, '#conversation-members')).find(([user]) => user === 'ben')!;
    expect(benRow.slice(2)).toEqual([String(reply), '0']); // read up to his reply, nothing unread

    // An unknown conversation: said so, in place.
    await page.fill('#conversation-id', 'g_missing');
    await page.press('#conversation-id', 'Enter');
    await until(page, () => document.querySelector('#conversation-result .error')?.textContent === 'No conversation with the id g_missing.');

    // Projections: one row per partition with its lag; up to date once the projector caught up.
    await page.click('[data-tab="projections"]');
    await until(page, () => document.getElementById('lag-summary-timeline')?.textContent === 'Up to date: no event waits to be projected.');
    const partitions = await rows(page, '#partitions-timeline');
    expect(partitions.map(([partition]) => partition)).toEqual(['0', '1', '2', '3']);
    for (const [, stream, lastSeq, checkpoint, lagEvents, lagSeconds] of partitions) {
      expect(stream).toMatch(new RegExp(`^${sys().ns.name}_P[0-3]$`));
      expect(checkpoint).toBe(lastSeq);
      expect(lagEvents).toBe('0');
      expect(lagSeconds).toBe('0.0 s');
    }
    const events = partitions.reduce((sum, [, , lastSeq]) => sum + Number(lastSeq.replace(/,/g, '')), 0);
    expect(events).toBeGreaterThan(29);
    expect(await page.locator('#rebuild-timeline .hint').innerText()).toBe('This API process has run no rebuild since it started.');

    // A rebuild: asked for, confirmed, followed from its first state to done.
    await page.evaluate(() => {
      window.__states = [];
      new window.MutationObserver(() => {
        const text = document.querySelector('#rebuild-timeline .rebuild-state')?.textContent;
        if (text && window.__states[window.__states.length - 1] !== text) window.__states.push(text);
      }).observe(document.getElementById('projections-result'), { childList: true, subtree: true, characterData: true });
    });
    await page.click('#rebuild-timeline .rebuild-button');
    expect(await page.locator('#rebuild-timeline .confirm p').innerText()).toMatch(/^A rebuild replays every event/);
    await page.click('#rebuild-timeline .rebuild-start');
    await until(page, () => document.querySelector('#rebuild-timeline .rebuild-state')?.textContent === 'Last rebuild: done');
    const states: string[] = await page.evaluate(() => window.__states);
    expect(states[0]).toBe('Rebuild running: building a fresh copy from the log');
    expect(states[states.length - 1]).toBe('Last rebuild: done');
    const figures = await page.locator('#rebuild-timeline .rebuild-figures').innerText();
    const [, applied, total] = /^([\d,]+) of ([\d,]+) events replayed, [\d,]+ events\/s; started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, finished \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.$/.exec(figures) ?? [];
    expect(Number(total?.replace(/,/g, ''))).toBe(events);
    expect(Number(applied?.replace(/,/g, ''))).toBeGreaterThanOrEqual(events);
    const progress = await page.$eval('#rebuild-timeline progress', (p: any) => ({ value: p.value, max: p.max }));
    expect(progress).toEqual({ value: events, max: events });
    expect(await page.locator('#rebuild-timeline .rebuild-button').isEnabled()).toBe(true);
    await page.screenshot({ path: join(OUTPUT, 'admin-projections.png'), fullPage: true });

    // Storage per tier: what the API counts, every message of this test in the hot tier.
    await page.click('[data-tab="storage"]');
    await page.locator('#storage-tiers').waitFor({ state: 'visible' });
    const stored = await admin('/v1/admin/storage');
    const tiers = await rows(page, '#storage-tiers');
    expect(tiers.map(([tier, messages]) => [tier, Number(messages.replace(/,/g, ''))])).toEqual(stored.tiers.map((t: any) => [t.tier, t.messages]));
    expect(tiers.map(([tier]) => tier)).toEqual(['hot', 'warm', 'cold']);
    expect(Number(tiers[0]![1]!.replace(/,/g, ''))).toBeGreaterThanOrEqual(29);
    expect(tiers[0]![2]).toMatch(/^[\d.]+ (B|KiB|MiB)$/);
    expect(await page.locator('#storage-damaged').innerText()).toBe('No damaged blocks found.');
    await page.screenshot({ path: join(OUTPUT, 'admin-storage.png'), fullPage: true });

    // A reload keeps the token for the tab (and the tab shown); nothing is typed again.
    await page.reload();
    await page.locator('#storage-tiers').waitFor({ state: 'visible' });
    expect(await page.locator('#auth-ok').isVisible()).toBe(true);
    expect(await page.locator('#auth').isVisible()).toBe(false);

    // The token never went into a URL; the only refusals were the ones asked for above.
    expect(page.url()).not.toContain(TEST_ADMIN_TOKEN);
    expect(seen.urls.filter((u) => u.includes(TEST_ADMIN_TOKEN) || u.includes('not-the-admin-token'))).toEqual([]);
    expect(seen.refused.sort()).toEqual([
      `${url}/v1/admin/conversations/g_missing?limit=50`,
      `${url}/v1/admin/projections?limit=1`,
      `${url}/v1/admin/users/not%20a%20user!/presence`,
    ]);
    expect(seen.problems).toEqual([]);

    // Forgetting the token takes the admin tabs away again.
    await page.click('#forget');
    expect(await page.locator('#token').isVisible()).toBe(true);
    expect(await page.locator('[data-tab="storage"]').isVisible()).toBe(false);
    expect(await page.locator('#tab-storage').isVisible()).toBe(false);
    expect(await page.evaluate(() => window.sessionStorage.length)).toBe(0);
    await context.close();

    // Phone width, a new tab: the token again, then a conversation and a user, nothing wider than the screen.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    const smallSeen = watch(small);
    await small.goto(`${url}/admin#conversation`);
    expect(await small.locator('#tab-live').isVisible()).toBe(true); // no token in this tab yet
    expect(await small.locator('#tab-conversation').isVisible()).toBe(false);
    expect(await fitsWidth(small)).toBe(true);
    await small.fill('#token', TEST_ADMIN_TOKEN);
    await small.press('#token', 'Enter');
    await small.locator('#conversation-id').waitFor({ state: 'visible' });
    await small.fill('#conversation-id', group.id);
    await small.press('#conversation-id', 'Enter');
    await until(small, () => document.querySelectorAll('#messages li').length === 20);
    expect((await bodies(small)).slice(-1)).toEqual(['ops note 25']);
    expect(await small.locator('#older').isVisible()).toBe(true);
    expect(await fitsWidth(small)).toBe(true);
    await small.screenshot({ path: join(OUTPUT, 'admin-phone-conversation.png'), fullPage: true });
    await small.click('#conversation-members button:text-is("ann")');
    await until(small, () => document.getElementById('user-name')?.textContent === 'ann');
    await until(small, () => document.querySelectorAll('#user-connections tbody tr').length === 2);
    expect(await fitsWidth(small)).toBe(true);
    await small.screenshot({ path: join(OUTPUT, 'admin-phone-user.png'), fullPage: true });
    await small.click('[data-tab="projections"]');
    await until(small, () => document.querySelectorAll('#partitions-timeline tbody tr').length === 4);
    expect(await small.locator('.rebuild-state').innerText()).toBe('Last rebuild: done');
    expect(await fitsWidth(small)).toBe(true);
    await small.screenshot({ path: join(OUTPUT, 'admin-phone-projections.png'), fullPage: true });
    expect(smallSeen.refused).toEqual([]);
    expect(smallSeen.problems).toEqual([]);
    await phone.close();
  });
  it('works the reports queue: each report with its message in context, and one click to delete, mute, remove or block, at desktop and phone width', async () => {
    const { url } = sys().app;
    const admin = (path: string) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }).then((r) => r.json() as Promise<any>);
    const olga = await sys().connect('olga');
    const spammer = await sys().connect('spammer');
    const vic = await sys().connect('vic');
    const pat = await sys().connect('pat');
    const { conversation: group } = await olga.ok('conversation:create', { type: 'group', title: 'Neighbours', members: ['spammer', 'vic', 'pat'] });
    const said: number[] = [];
    for (const [who, body] of [[olga, 'Welcome, everyone!'], [vic, 'Hi all'], [spammer, 'BUY CHEAP WATCHES at example.com'], [pat, 'Please stop'], [spammer, 'Click here for free money']] as const) {
      said.push((await who.ok('message:send', { conversationId: group.id, clientMsgId: `n-${said.length}`, body })).seq);
    }
    await vic.ok('message:report', { conversationId: group.id, seq: said[2], reason: 'Spam: selling watches' });
    await pat.ok('message:report', { conversationId: group.id, seq: said[4], reason: 'Scam link' });
    await waitFor('both reports projected', async () => (await admin('/v1/admin/reports')).reports?.filter((r: any) => r.conversationId === group.id).length === 2);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const seen = watch(page);
    await page.goto(`${url}/admin#reports`);
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await page.press('#token', 'Enter');
    await page.locator('#reports').waitFor({ state: 'visible' });
    expect(page.url()).toMatch(/#reports$/);
    expect(await page.locator('#reports-count').innerText()).toBe('2 reports shown.');
    // Newest first: pat's, then vic's; each names who reported, why, and the message among its neighbours.
    const cards = page.locator('#reports > li');
    expect(await cards.evaluateAll((lis: any[]) => lis.map((li) => li.dataset.report.split(':')[0]))).toEqual([group.id, group.id]);
    const vics = cards.nth(1);
    expect(await vics.locator('.report-head').innerText()).toMatch(/^Reported by\s*vic\s*·\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s*·\s*in\s*g_\S+\s*·\s*author\s*spammer$/);
    expect(await vics.locator('.reason').innerText()).toBe('Spam: selling watches');
    expect(await vics.locator('.context li .body').allInnerTexts()).toEqual(['Welcome, everyone!', 'Hi all', 'BUY CHEAP WATCHES at example.com', 'Please stop', 'Click here for free money']);
    expect(await vics.locator('.context li.reported .body').innerText()).toBe('BUY CHEAP WATCHES at example.com');
    expect(await vics.locator('.actions button').allInnerTexts()).toEqual(['Delete message', 'Mute author', 'Remove author', 'Block author']);
    expect(await vics.locator('select option').allInnerTexts()).toEqual(['for 24 hours', 'for 1 hour', 'for 7 days', 'until unmuted']);
    await page.screenshot({ path: join(OUTPUT, 'admin-reports.png'), fullPage: true });

    // Delete: members see the message go; the card shows it deleted.
    await vics.locator('[data-action="delete"]').click();
    await until(page, () => /^Message #\d+ deleted \(seq \d+\); members see it gone\.$/.test(document.querySelectorAll('#reports > li')[1].querySelector('.outcome')?.textContent ?? ''));
    expect(await vics.locator('.context li.reported .body').innerText()).toBe('This message was deleted.');
    expect(await vics.locator('[data-action="delete"]').isVisible()).toBe(false);
    await waitForEvents(vic, 1, (e) => e.type === 'message:deleted' && e.targetSeq === said[2]);

    // Mute for a day, by default: the author's sends are refused until then.
    await vics.locator('[data-action="mute"]').click();
    await until(page, () => /^spammer muted in this conversation until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.$/.test(document.querySelectorAll('#reports > li')[1].querySelector('.outcome')?.textContent ?? ''));
    const muted = await spammer.request('message:send', { conversationId: group.id, clientMsgId: 'n-muted', body: 'again' });
    expect(muted).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', retryAfterMs: expect.any(Number) } });
    expect(!muted.ok && muted.error.retryAfterMs).toBeGreaterThan(23 * 3_600_000);
    await page.screenshot({ path: join(OUTPUT, 'admin-reports-acted.png'), fullPage: true });
    expect(seen.problems).toEqual([]);
    expect(seen.refused).toEqual([]);
    await context.close();

    // Phone width: pat's report, block and unblock from there, then remove; nothing wider than the screen.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    const smallSeen = watch(small);
    await small.goto(`${url}/admin#reports`);
    await small.fill('#token', TEST_ADMIN_TOKEN);
    await small.press('#token', 'Enter');
    await small.locator('#reports').waitFor({ state: 'visible' });
    expect(await fitsWidth(small)).toBe(true);
    await small.screenshot({ path: join(OUTPUT, 'admin-phone-reports.png'), fullPage: true });
    const pats = small.locator('#reports > li').nth(0);
    expect(await pats.locator('.reason').innerText()).toBe('Scam link');
    const disconnected = new Promise<string>((resolve) => spammer.socket.once('disconnect', (reason) => resolve(reason)));
    await pats.locator('[data-action="block"]').tap();
    expect(await disconnected).toBe('io server disconnect');
    await until(small, () => document.querySelector('#reports > li [data-action="block"]')?.textContent === 'Unblock author');
    expect(await pats.locator('.outcome').innerText()).toBe('spammer blocked: their connections are closed on every gateway and refused until unblocked.');
    expect(await refusedWith(url, { token: await tokenFor('spammer') })).toBe('blocked');
    await pats.locator('[data-action="block"]').tap();
    await until(small, () => document.querySelector('#reports > li [data-action="block"]')?.textContent === 'Block author');
    await pats.locator('[data-action="remove"]').tap();
    await until(small, () => document.querySelector('#reports > li .outcome')?.textContent === 'spammer removed from the conversation.');
    await waitFor('spammer out of the group', async () => !(await admin(`/v1/admin/conversations/${group.id}?limit=200`)).members.some((m: any) => m.userId === 'spammer'));
    expect(await fitsWidth(small)).toBe(true);
    await small.screenshot({ path: join(OUTPUT, 'admin-phone-reports-acted.png'), fullPage: true });
    expect(smallSeen.problems).toEqual([]);
    expect(smallSeen.refused).toEqual([]);
    await phone.close();
  });
});
