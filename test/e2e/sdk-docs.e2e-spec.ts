import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from '../support/app-process';
import { wholeHistory } from '../support/clients';
import { TEST_JWT_SECRET, UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';

jest.setTimeout(90_000);

/** The page's globals, as the functions run inside the browser see them (the repo's tsconfig has no DOM lib). */
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Where the Node examples run: inside the repo, so `jose` resolves, with `@chat/client` linked as an app would install it. */
const WORK = join(ROOT, 'test-output', 'sdk-docs');

/** The fenced code blocks of docs/sdk.md, in order, with their language. */
function blocks(): Array<{ lang: string; code: string }> {
  const text = readFileSync(join(ROOT, 'docs', 'sdk.md'), 'utf8');
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

function runNode(file: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: WORK, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('the examples of docs/sdk.md, run as written', () => {
  const sys = useSystem('sdkdocs', { ...UNLIMITED, CHAT_DEV_TOKENS: '1' });
  let browser: Browser | undefined;
  afterAll(async () => browser?.close());

  it('holds only examples this test runs: two for Node, one page for the browser', () => {
    expect(blocks().map((b) => b.lang)).toEqual(['js', 'js', 'html']);
  });

  it('runs the Node examples: alice writes to bob with a development token, bob answers with a token his backend signed', async () => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(join(WORK, 'node_modules', '@chat'), { recursive: true });
    symlinkSync(join(ROOT, 'libs', 'client'), join(WORK, 'node_modules', '@chat', 'client'), 'dir');
    const [quickStart, signed] = blocks().filter((b) => b.lang === 'js');
    writeFileSync(join(WORK, 'quick-start.mjs'), quickStart!.code);
    writeFileSync(join(WORK, 'signed-token.mjs'), signed!.code);
    const env = { CHAT_URL: sys().app.url, CHAT_JWT_SECRET: TEST_JWT_SECRET };

    const first = await runNode('quick-start.mjs', env);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out.trim().split('\n')).toEqual(['outbox: pending "hello from node"', 'message from alice: hello from node', 'outbox: sent "hello from node"']);

    const second = await runNode('signed-token.mjs', env);
    expect(second).toMatchObject({ code: 0, err: '' });
    expect(second.out.trim().split('\n')).toEqual(['direct conversation: 1 unread, the last: "hello from node"']);
    const alice = await sys().connect('alice');
    const [conversation] = (await alice.ok('conversation:list', {})).conversations;
    const history = await wholeHistory(alice, conversation!.id);
    expect(history.map((m) => [m.senderId, m.body])).toEqual([['alice', 'hello from node'], ['bob', 'got "hello from node"']]);
    expect(history[1]!.replyToSeq).toBe(history[0]!.seq);
  });

  it('runs the browser page, loaded from the server without a bundler, in Chromium', async () => {
    const [page] = blocks().filter((b) => b.lang === 'html');
    browser = await chromium.launch({ headless: true, executablePath: '/usr/bin/chromium', args: ARGS });
    const tab = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    // The page as if the chat server served it: a document of the server's origin (and of
    // its address: Chromium lets only local pages open sockets to 127.0.0.1), written with the example.
    await tab.goto(`${sys().app.url}/healthz`);
    await tab.setContent(page!.code);
    await tab.waitForFunction(() => document.querySelectorAll('#log li').length === 3, undefined, { timeout: 20_000 }).catch(async (err) => {
      throw new Error(`the page shows ${JSON.stringify(await tab.locator('body').innerText())}, errors ${JSON.stringify(errors)}: ${(err as Error).message}`);
    });
    expect(await tab.locator('#log li').allInnerTexts()).toEqual(['pending: hello from the browser', 'carol: hello from the browser', 'sent: hello from the browser']);
    expect(await tab.locator('#status').innerText()).toBe('online');
    expect(errors).toEqual([]);
    const alice = await sys().connect('alice');
    const { conversations } = await alice.ok('conversation:list', {});
    const withCarol = conversations.find((c) => c.lastMessage?.senderId === 'carol');
    expect(withCarol?.lastMessage?.body).toBe('hello from the browser');
  });
});
