import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../support/app-process';
import { caughtUp } from '../support/inspect';
import { SHARED, UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

/** The page's globals, as the functions run inside the browser see them (the repo's tsconfig has no DOM lib). */
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const navigator: { onLine: boolean };

const OUT = join(__dirname, '..', '..', 'test-output');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

interface Person {
  name: string;
  page: Page;
  context: BrowserContext;
  /** Page errors and console errors, which a test expects to stay empty. */
  errors: string[];
}

describe('the web client in headless Chromium', () => {
  // Attachments over 8 MiB are refused: a failed upload the browser logs nothing about.
  const sys = useSystem('webclient', { ...UNLIMITED, CHAT_DEV_TOKENS: '1', CHAT_MAX_ATTACHMENT_BYTES: String(8 * 1024 * 1024) });
  let browser: Browser;
  const people: Person[] = [];
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ headless: true, executablePath: '/usr/bin/chromium', args: ARGS });
    // The page PUTs attachments to the local S3 from its own origin: the bucket's CORS rules, as deploy/local sets them.
    execFileSync('node', [join(ROOT, 'deploy', 'local', 's3-cors.mjs'), SHARED.s3, 'chat'], { stdio: 'inherit' });
  });
  afterEach(() => {
    for (const p of people) expect({ who: p.name, errors: p.errors }).toEqual({ who: p.name, errors: [] });
  });
  afterAll(async () => browser?.close());

  async function open(name: string, viewport = DESKTOP): Promise<Person> {
    const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'Europe/Paris', isMobile: viewport === PHONE, hasTouch: viewport === PHONE });
    const page = await context.newPage();
    const person: Person = { name, page, context, errors: [] };
    page.on('pageerror', (e) => person.errors.push(`page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && person.errors.push(`console: ${m.text()}`));
    people.push(person);
    await page.goto(`${sys().app.url}/`);
    return person;
  }

  async function signIn(name: string, viewport = DESKTOP): Promise<Person> {
    const p = await open(name, viewport);
    await p.page.fill('#name', name);
    await p.page.click('#signin button');
    await p.page.waitForSelector('#app', { state: 'visible' });
    await p.page.waitForSelector('#offline', { state: 'hidden' });
    return p;
  }

  const shot = (p: Person, file: string) => p.page.screenshot({ path: join(OUT, `web-${file}.png`) });
  const texts = (page: Page, selector: string) => page.locator(selector).allInnerTexts();
  const visible = (page: Page, selector: string) => page.locator(selector).isVisible();
  /** Waits until the selector's visible texts are exactly `want`. */
  async function until(page: Page, selector: string, want: string[], timeout = 15_000): Promise<void> {
    await page.waitForFunction(
      ([sel, w]) => JSON.stringify([...document.querySelectorAll(sel)].filter((e: any) => e.offsetParent !== null).map((e: any) => e.innerText.trim())) === JSON.stringify(w),
      [selector, want] as const, { timeout },
    ).catch(async (err) => {
      for (const p of people) await p.page.screenshot({ path: join(OUT, `web-failed-${p.name}.png`) }).catch(() => undefined);
      throw new Error(`${selector}: wanted ${JSON.stringify(want)}, shows ${JSON.stringify(await texts(page, selector))} (${(err as Error).message.split('\n')[0]})`);
    });
  }
  /** Opens the conversation the list names so. */
  const pick = (p: Person, name: string) => p.page.click(`#conversations .conv:has(.name:text-is("${name}"))`);
  async function send(p: Person, text: string): Promise<void> {
    await p.page.fill('#text', text);
    await p.page.press('#text', 'Enter');
  }

  it('shows only the sign-in form first, refuses a bad name in words, and keeps the sign-in across a reload', async () => {
    const dora = await open('dora');
    expect(await visible(dora.page, '#signin')).toBe(true);
    for (const hidden of ['#app', '#compose', '#offline', '#signin-error']) expect(await visible(dora.page, hidden)).toBe(false);
    // The pattern is a valid expression under the `v` flag (the browser compiles it so): a bad name does not match it.
    expect(await dora.page.evaluate(() => {
      const input = document.getElementById('name');
      new RegExp(input.pattern, 'v');
      input.value = 'dora the explorer';
      return input.validity.patternMismatch;
    })).toBe(true);
    await dora.page.fill('#name', 'dora the explorer');
    await dora.page.click('#signin button');
    expect(await dora.page.locator('#signin-error').innerText()).toContain('A name is 1 to 64 letters');
    expect(await visible(dora.page, '#app')).toBe(false);
    await dora.page.fill('#name', 'dora');
    await dora.page.click('#signin button');
    await dora.page.waitForSelector('#app', { state: 'visible' });
    expect(await visible(dora.page, '#signin')).toBe(false);
    expect(await visible(dora.page, '#compose')).toBe(false); // no conversation open
    expect(await dora.page.locator('#empty-list').innerText()).toContain('No conversations yet');
    // Day separators and list times, in the person's time zone and language (Paris, en-GB here).
    // (A string, so that the test's compiler leaves the page's dynamic import alone.)
    expect(await dora.page.evaluate(`(async () => {
      const { dayOf, listTime } = await import('/app/format.js');
      const now = new Date('2025-03-02T12:00:00Z');
      return [dayOf('2025-03-02T08:00:00Z', now), dayOf('2025-03-01T23:30:00Z', now), dayOf('2025-03-01T12:00:00Z', now), dayOf('2025-02-24T12:00:00Z', now), dayOf('2024-12-31T12:00:00Z', now),
        listTime('2025-03-02T08:00:00Z', now), listTime('2025-02-27T12:00:00Z', now), listTime('2025-02-01T12:00:00Z', now)];
    })()`)).toEqual(['Today', 'Today', 'Yesterday', 'Monday 24 February', 'Tuesday, 31 December 2024', '09:00', 'Thu', '1 Feb']);
    await dora.page.reload();
    await dora.page.waitForSelector('#app', { state: 'visible' });
    expect(await visible(dora.page, '#signin')).toBe(false);
    expect(await dora.page.locator('#me').innerText()).toBe('dora');
    // Signing out forgets the session: the sign-in form again, after a reload too.
    await dora.page.click('#signout');
    await dora.page.waitForSelector('#signin', { state: 'visible' });
    expect(await visible(dora.page, '#app')).toBe(false);
    await dora.page.reload();
    await dora.page.waitForSelector('#signin', { state: 'visible' });
    expect(await dora.page.evaluate(() => Object.keys(document.defaultView.localStorage).filter((k: string) => k.startsWith('chat.')))).toEqual([]);
    await dora.context.close();
    people.splice(people.indexOf(dora), 1);
  });

  it("names a direct conversation on a fresh device of someone who only wrote in it (from the summary's members and peerId)", async () => {
    // Written from a stock client: nothing of this conversation is in the browser's storage.
    const gil = await sys().connect('gil');
    const { conversation } = await gil.ok('conversation:create', { type: 'direct', members: ['hana'] });
    await gil.ok('message:send', { conversationId: conversation.id, clientMsgId: 'only-gil', body: 'anyone there?' });
    const fresh = await signIn('gil');
    await until(fresh.page, '#conversations .conv .name', ['hana']);
    expect(await texts(fresh.page, '#conversations .conv')).not.toContainEqual(expect.stringContaining('Direct message'));
    await fresh.context.close();
    people.splice(people.indexOf(fresh), 1);
  });

  it('lets two people chat: names, previews, badges and the title count, ticks, edits, replies, reactions, deletes', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    // Starting a conversation: what cannot work is said in place, in words.
    await alice.page.click('#new-toggle');
    await alice.page.click('#new button');
    expect(await alice.page.locator('#new-error').innerText()).toBe('Type the name of the person to write to.');
    await alice.page.fill('#members', 'bob, carol');
    await alice.page.click('#new button');
    expect(await alice.page.locator('#new-error').innerText()).toBe('A direct conversation is with one person; choose Group for more.');
    await alice.page.fill('#members', 'bob');
    await alice.page.click('#new button');
    await alice.page.waitForSelector('#compose', { state: 'visible' });
    expect(await visible(alice.page, '#new')).toBe(false);
    expect(await alice.page.locator('#title').innerText()).toBe('bob');
    await send(alice, 'hello bob');
    await send(alice, 'are you there?');
    // Own messages show at once, then with their tick.
    await until(alice.page, '#messages .msg .body', ['hello bob', 'are you there?']);
    await until(alice.page, '#messages .msg .tick', ['✓', '✓']);
    expect(await texts(alice.page, '#messages .day')).toEqual(['Today']);
    expect(await alice.page.locator('#messages .msg time').first().innerText()).toMatch(/^\d\d:\d\d$/);

    // Bob's list names alice, previews the last message with its time, and counts two unread; so does his title.
    await until(bob.page, '#conversations .conv .name', ['alice']);
    await until(bob.page, '#conversations .conv .badge', ['2']);
    expect(await bob.page.locator('#conversations .conv .preview').innerText()).toBe('are you there?');
    expect(await bob.page.locator('#conversations .conv .when').innerText()).toMatch(/^\d\d:\d\d$/);
    expect(await bob.page.title()).toBe('(2) chat');
    await bob.page.click('#conversations .conv');
    await until(bob.page, '#messages .msg .body', ['hello bob', 'are you there?']);
    await bob.page.waitForFunction(() => document.title === 'chat');
    expect(await visible(bob.page, '#conversations .conv .badge')).toBe(false);
    // Alice sees that bob read them.
    await until(alice.page, '#messages .msg .tick', ['✓✓', '✓✓']);

    // Bob replies to the first message, and types: alice sees both.
    await bob.page.click('#messages .msg >> nth=0');
    await bob.page.click('#messages .msg >> nth=0 >> button:has-text("Reply")');
    expect(await bob.page.locator('#replying-text').innerText()).toBe('Replying to alice: hello bob');
    await bob.page.type('#text', 'yes, hi', { delay: 20 });
    await alice.page.waitForFunction(() => document.getElementById('typing').innerText === 'bob is typing…');
    await bob.page.press('#text', 'Enter');
    await until(alice.page, '#messages .msg .body', ['hello bob', 'are you there?', 'yes, hi']);
    expect(await alice.page.locator('#messages .msg >> nth=2 >> .quote').innerText()).toBe('↩ You: hello bob');
    expect(await bob.page.locator('#messages .msg >> nth=2 >> .quote').innerText()).toBe('↩ alice: hello bob');
    expect(await visible(bob.page, '#replying')).toBe(false);
    await alice.page.waitForFunction(() => document.getElementById('typing').innerText === '');

    // Alice edits her last message with Up, inline; Enter saves; both see the new text, marked edited.
    await alice.page.click('#text');
    await alice.page.press('#text', 'ArrowUp');
    await alice.page.waitForSelector('#edit-text', { state: 'visible' });
    expect(await alice.page.inputValue('#edit-text')).toBe('are you there?');
    await alice.page.fill('#edit-text', 'are you there, bob?');
    await alice.page.press('#edit-text', 'Enter');
    await until(alice.page, '#messages .msg .body', ['hello bob', 'are you there, bob?', 'yes, hi']);
    await until(bob.page, '#messages .msg .body', ['hello bob', 'are you there, bob?', 'yes, hi']);
    expect(await texts(bob.page, '#messages .msg .edited')).toEqual(['edited']);
    expect(await texts(alice.page, '#messages .msg .edited')).toEqual(['edited']);

    // Bob reacts from the picker; alice adds hers with the chip; bob takes his back: everyone sees each step.
    await bob.page.click('#messages .msg >> nth=1');
    await bob.page.click('#messages .msg >> nth=1 >> button:has-text("React")');
    await bob.page.click('#messages .picker button:has-text("🎉")');
    await until(alice.page, '#messages .chip', ['🎉 1']);
    await until(bob.page, '#messages .chip.mine', ['🎉 1']);
    expect(await visible(bob.page, '#messages .picker')).toBe(false);
    await alice.page.click('#messages .chip');
    await until(bob.page, '#messages .chip', ['🎉 2']);
    await until(alice.page, '#messages .chip.mine', ['🎉 2']);
    await bob.page.click('#messages .chip');
    await until(alice.page, '#messages .chip', ['🎉 1']);
    await until(bob.page, '#messages .chip', ['🎉 1']);
    expect(await bob.page.locator('#messages .chip.mine').count()).toBe(0);

    // Alice deletes her first message (asked in place, no dialog); both see it gone.
    await alice.page.click('#messages .msg >> nth=0');
    await alice.page.click('#messages .msg >> nth=0 >> button:has-text("Delete")');
    expect(await alice.page.locator('#messages .msg >> nth=0 >> .actions').innerText()).toContain('Delete this message?');
    await alice.page.click('#messages .msg >> nth=0 >> .actions button.danger');
    await until(alice.page, '#messages .msg .body', ['This message was deleted', 'are you there, bob?', 'yes, hi']);
    await until(bob.page, '#messages .msg .body', ['This message was deleted', 'are you there, bob?', 'yes, hi']);
    expect(await bob.page.locator('#messages .msg >> nth=2 >> .quote').innerText()).toBe('↩ alice: a deleted message');

    // Shift+Enter is a new line, Enter sends it.
    await bob.page.fill('#text', 'line one');
    await bob.page.press('#text', 'Shift+Enter');
    await bob.page.type('#text', 'line two');
    await bob.page.press('#text', 'Enter');
    await until(alice.page, '#messages .msg .body', ['This message was deleted', 'are you there, bob?', 'yes, hi', 'line one\nline two']);
    // A refusal shows in words where it happened: editing is for one's own messages, deleted ones cannot be reacted to.
    await shot(alice, 'desktop-alice-direct');
    await shot(bob, 'desktop-bob-direct');

    // Alice on a second device, signed in afresh: the conversation is named, with its preview; nothing unread.
    const again = await signIn('alice');
    await until(again.page, '#conversations .conv .name', ['bob']);
    expect(await again.page.locator('#conversations .conv .preview').innerText()).toBe('line one line two');
    expect(await again.page.locator('#conversations .conv .badge').count()).toBe(0);
    await again.context.close();
    people.splice(people.indexOf(again), 1);
  });

  it('works for three in a group: its title everywhere, typing of two, seen by, adding someone, leaving; at phone width too', async () => {
    const ann = await signIn('ann');
    const ben = await signIn('ben');
    const cat = await signIn('cat', PHONE);
    // Ann and ben have a direct conversation already.
    await ann.page.click('#new-toggle');
    await ann.page.fill('#members', 'ben');
    await ann.page.click('#new button');
    await send(ann, 'hi ben');
    await until(ann.page, '#messages .msg .body', ['hi ben']);
    await ann.page.click('#new-toggle');
    await ann.page.check('input[name="kind"][value="group"]');
    await ann.page.fill('#members', 'ben, cat');
    await ann.page.fill('#group-title', 'Weekend trip');
    await ann.page.click('#new button');
    await until(ann.page, '#title', ['Weekend trip']);
    await send(ann, 'who is in?');

    // Carol, on a phone: the list alone, with the group and its badge; opening it shows the conversation alone.
    await until(cat.page, '#conversations .conv .name', ['Weekend trip']);
    await until(cat.page, '#conversations .conv .badge', ['1']);
    expect(await cat.page.locator('#conversations .conv .preview').innerText()).toBe('ann: who is in?');
    expect(await visible(cat.page, '#pane')).toBe(false);
    await shot(cat, 'phone-cat-list');
    await cat.page.click('#conversations .conv');
    await until(cat.page, '#messages .msg .body', ['who is in?']);
    expect(await visible(cat.page, '#sidebar')).toBe(false);
    expect(await visible(cat.page, '#back')).toBe(true);
    expect(await cat.page.locator('#messages .msg .who').innerText()).toBe('ann');
    // Bob's list has both conversations, the group first (newest activity), with its title.
    await until(ben.page, '#conversations .conv .name', ['Weekend trip', 'ann']);

    // Alice sees who has seen her message: cat, then everyone once ben has opened it.
    await until(ann.page, '#messages .seen-by', ['Seen by cat']);
    await pick(ben, 'Weekend trip');
    await until(ann.page, '#messages .seen-by', ['Seen by everyone']);
    await until(ann.page, '#messages .msg .tick', ['✓✓']);

    // Bob and cat type at once: ann reads both names.
    await ben.page.type('#text', 'me', { delay: 10 });
    await cat.page.type('#text', 'me too', { delay: 10 });
    await ann.page.waitForFunction(() => document.getElementById('typing').innerText === 'ben and cat are typing…');
    await ben.page.press('#text', 'Enter');
    await until(ann.page, '#messages .msg .body', ['who is in?', 'me']);
    await ann.page.waitForFunction(() => document.getElementById('typing').innerText === 'cat is typing…');
    await cat.page.press('#text', 'Enter');
    await until(ann.page, '#messages .msg .body', ['who is in?', 'me', 'me too']);
    await ann.page.waitForFunction(() => document.getElementById('typing').innerText === '');
    // On the phone a tap shows a message's actions: cat reacts to ann's question from the picker.
    await cat.page.tap('#messages .msg >> nth=0');
    await cat.page.tap('#messages .msg >> nth=0 >> button:has-text("React")');
    await cat.page.tap('#messages .picker button:has-text("👍")');
    await until(ann.page, '#messages .chip', ['👍 1']);
    await shot(cat, 'phone-cat-group');

    // Alice adds dev from the details panel; dev finds the group in his list, named by its title.
    await ann.page.click('#details-toggle');
    await until(ann.page, '#member-list li', ['ann (you)', 'ben online', 'cat online'].map((t) => t.replace(' online', '\nonline')));
    await ann.page.fill('#add-names', 'dev');
    await ann.page.click('#add-members button');
    await until(ann.page, '#member-list li', ['ann (you)', 'ben\nonline', 'cat\nonline', 'dev\noffline']);
    await ann.page.fill('#add-names', 'no spaces please');
    await ann.page.click('#add-members button');
    expect(await ann.page.locator('#details-error').innerText()).toContain('is not a name');
    // The server's refusal, in words: at most 1000 people a call.
    await ann.page.fill('#add-names', Array.from({ length: 1001 }, (_, i) => `p${i}`).join(','));
    await ann.page.click('#add-members button');
    await ann.page.waitForFunction(() => document.getElementById('details-error').innerText.startsWith('That is too large'));
    expect(await ann.page.locator('#member-list li').count()).toBe(4);
    const dev = await signIn('dev');
    await until(dev.page, '#conversations .conv .name', ['Weekend trip']);
    await shot(ann, 'desktop-ann-group-details');

    // Carol leaves (asked once more in place): the group leaves her list; the others see three members.
    await cat.page.click('#details-toggle');
    await until(cat.page, '#member-list li', ['cat (you)', 'ann\nonline', 'ben\nonline', 'dev\nonline']);
    await shot(cat, 'phone-cat-details');
    await cat.page.click('#leave');
    expect(await cat.page.locator('#leave').innerText()).toContain('Really leave?');
    await cat.page.click('#leave');
    await cat.page.waitForSelector('#sidebar', { state: 'visible' }); // back to the list, which is empty
    await cat.page.waitForSelector('#empty-list', { state: 'visible' });
    expect(await cat.page.locator('#conversations .conv').count()).toBe(0);
    await until(ann.page, '#member-list li', ['ann (you)', 'ben\nonline', 'dev\nonline']);
    await until(ben.page, '#subtitle', ['3 members, 2 online']);
    await shot(cat, 'phone-cat-left');

    // Alice is elsewhere when dev mentions her: the group shows a mention badge and one unread, so does her title.
    await pick(ann, 'ben');
    await dev.page.click('#conversations .conv');
    await send(dev, 'thanks @ann');
    await until(ann.page, '#conversations .conv:first-child .badge', ['@1', '1']);
    expect(await ann.page.locator('#conversations .conv:first-child .name').innerText()).toBe('Weekend trip');
    expect(await ann.page.locator('#conversations .conv:first-child .preview').innerText()).toBe('dev: thanks @ann');
    expect(await ann.page.title()).toBe('(1) chat');
    // Presence in the list: everyone ann talks to is online.
    expect(await ann.page.locator('#conversations .conv .dot.online').count()).toBe(2);
    await shot(ann, 'desktop-ann-mentioned');
    await pick(ann, 'Weekend trip');
    await until(ann.page, '#conversations .conv .badge', []);
    expect(await ann.page.title()).toBe('chat');
  });

  it('notices going offline at once, keeps what is sent meanwhile in a visible outbox, across a reload, and sends it when back', async () => {
    const erin = await signIn('erin');
    const finn = await signIn('finn');
    await erin.page.click('#new-toggle');
    await erin.page.fill('#members', 'finn');
    await erin.page.click('#new button');
    await send(erin, 'are you there?');
    await pick(finn, 'erin');
    await until(finn.page, '#messages .msg .body', ['are you there?']);
    await until(erin.page, '#messages .msg.mine .tick', ['✓✓']);
    await finn.context.setOffline(true);
    // From navigator.onLine: no waiting for the socket's ping timeout.
    await finn.page.waitForSelector('#offline', { state: 'visible', timeout: 5_000 });
    expect(await finn.page.evaluate(() => navigator.onLine)).toBe(false);
    expect(await finn.page.locator('#offline').innerText()).toBe('You are offline. New messages will appear when you are back.');
    await send(finn, 'written offline');
    await until(finn.page, '#messages .msg.pending .body', ['written offline']);
    expect(await finn.page.locator('#messages .msg.pending .sending').innerText()).toBe('◷ sending…');
    expect(await finn.page.locator('#offline').innerText()).toBe('You are offline. 1 message waiting to be sent. New messages will appear when you are back.');
    // The banner stays in view however the messages scroll.
    await finn.page.locator('#messages').evaluate((ol: any) => (ol.scrollTop = 0));
    expect(await finn.page.locator('#offline').boundingBox()).toMatchObject({ y: 0 });
    await shot(finn, 'desktop-finn-offline');
    await send(erin, 'while you were away 1');
    await send(erin, 'while you were away 2');
    await until(erin.page, '#messages .msg.mine .tick', ['✓✓', '✓', '✓']); // finn has not seen the last two

    // Finn reloads while the server does not answer (the network is back; his sign-in
    // token request hangs): still signed in, the conversation still open, the unsent
    // message still there and counted.
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    await finn.context.route('**/v1/dev/token**', async (route) => {
      await released;
      await route.continue().catch(() => undefined); // the page that asked may be gone
    });
    await finn.context.setOffline(false);
    await finn.page.reload();
    await finn.page.waitForSelector('#app', { state: 'visible' });
    await until(finn.page, '#offline', ['Connecting to the server… 1 message waiting to be sent. New messages will appear when you are back.']);
    await until(finn.page, '#title', ['erin']);
    await until(finn.page, '#messages .msg.pending .body', ['written offline']);
    await shot(finn, 'desktop-finn-reloaded-unreachable');
    release();
    await finn.page.waitForSelector('#offline', { state: 'hidden' });
    await until(finn.page, '#messages .msg.pending .body', []);
    await until(finn.page, '#messages .msg .body', ['are you there?', 'while you were away 1', 'while you were away 2', 'written offline']);
    await until(erin.page, '#messages .msg .body', ['are you there?', 'while you were away 1', 'while you were away 2', 'written offline']);
    await until(erin.page, '#messages .msg.mine .tick', ['✓✓', '✓✓', '✓✓']); // seen by finn
    await shot(finn, 'desktop-finn-back');
  });

  it('threads and mentions: reply in a thread, pick a member after @, the counts on the root, the mention badge until read; the thread over the screen on a phone', async () => {
    const kai = await signIn('kai');
    const lea = await signIn('lea');
    const mo = await signIn('mo', PHONE);
    await kai.page.click('#new-toggle');
    await kai.page.check('input[name="kind"][value="group"]');
    await kai.page.fill('#members', 'lea, mo');
    await kai.page.fill('#group-title', 'Launch');
    await kai.page.click('#new button');
    await until(kai.page, '#title', ['Launch']);
    await send(kai, 'release on friday?');
    expect(await visible(kai.page, '#thread-panel')).toBe(false);

    // Lea opens the thread of kai's message from its actions: the root, no replies yet, a box of its own.
    await pick(lea, 'Launch');
    await until(lea.page, '#messages .msg .body', ['release on friday?']);
    await lea.page.hover('#messages .msg >> nth=0');
    await lea.page.click('#messages .msg >> nth=0 >> button:has-text("Thread")');
    await lea.page.waitForSelector('#thread-panel', { state: 'visible' });
    await until(lea.page, '#replies .msg .body', ['release on friday?']);
    await until(lea.page, '#replies .replies-count', ['No replies yet']);
    expect(await visible(lea.page, '#thread-back')).toBe(false); // wide screen: closed with ✕, the conversation stays beside it
    expect(await visible(lea.page, '#thread-close')).toBe(true);
    expect(await visible(lea.page, '#messages')).toBe(true);

    // She types @: the members but herself; the arrow moves to mo, Enter picks him, the menu goes.
    await lea.page.click('#thread-text');
    await lea.page.keyboard.type('@');
    await until(lea.page, '#thread-text-mentions li', ['@kai', '@mo']);
    await until(lea.page, '#thread-text-mentions li.active', ['@kai']);
    await lea.page.keyboard.press('ArrowDown');
    await until(lea.page, '#thread-text-mentions li.active', ['@mo']);
    await shot(lea, 'desktop-lea-mention-menu');
    await lea.page.keyboard.press('Enter');
    expect(await lea.page.inputValue('#thread-text')).toBe('@mo ');
    expect(await visible(lea.page, '#thread-text-mentions')).toBe(false);
    await lea.page.keyboard.type('can you check the build?');
    await lea.page.keyboard.press('Enter');
    // The reply is in the thread (at once, then sent), never in the main timeline; the root counts it.
    await until(lea.page, '#replies .msg .body', ['release on friday?', '@mo can you check the build?']);
    await until(lea.page, '#replies .msg.pending', []);
    await until(lea.page, '#messages .msg .body', ['release on friday?']);
    await until(lea.page, '#messages .thread-link .count', ['1 reply']);
    await until(lea.page, '#replies .replies-count', ['1 reply']);
    expect(await texts(lea.page, '#replies .mention')).toEqual(['@mo']);

    // Kai, in the conversation: the count and who replied on his message, not the reply itself.
    await until(kai.page, '#messages .thread-link .count', ['1 reply']);
    await until(kai.page, '#messages .thread-link .people', ['lea']);
    await until(kai.page, '#messages .msg .body', ['release on friday?']);
    expect(await visible(kai.page, '#thread-panel')).toBe(false);

    // Mo, on his phone, elsewhere: the group with its unread count and an @ badge for his mention.
    await until(mo.page, '#conversations .conv .name', ['Launch']);
    await until(mo.page, '#conversations .conv .badge', ['@1', '2']);
    await shot(mo, 'phone-mo-mention-badge');
    await mo.page.tap('#conversations .conv');
    await until(mo.page, '#messages .msg .body', ['release on friday?']);
    await until(mo.page, '#conversations .conv .badge', []);
    // The thread takes the screen, with a back button; his mention stands out.
    await mo.page.tap('#messages .thread-link');
    await mo.page.waitForSelector('#thread-panel', { state: 'visible' });
    await until(mo.page, '#replies .msg .body', ['release on friday?', '@mo can you check the build?']);
    expect(await visible(mo.page, '#messages')).toBe(false);
    expect(await visible(mo.page, '#compose')).toBe(false);
    expect(await visible(mo.page, '#thread-back')).toBe(true);
    expect(await visible(mo.page, '#thread-close')).toBe(false);
    expect(await texts(mo.page, '#replies .mention.me')).toEqual(['@mo']);
    expect(await mo.page.locator('#replies .msg.mentions-me').count()).toBe(1);
    // He mentions kai by tapping his name in the menu.
    await mo.page.tap('#thread-text');
    await mo.page.keyboard.type('on it @k');
    await until(mo.page, '#thread-text-mentions li', ['@kai']);
    await mo.page.tap('#thread-text-mentions li');
    expect(await mo.page.inputValue('#thread-text')).toBe('on it @kai ');
    await mo.page.keyboard.type('green in 10 min');
    await mo.page.tap('#thread-send');
    await until(mo.page, '#replies .msg .body', ['release on friday?', '@mo can you check the build?', 'on it @kai green in 10 min']);
    await shot(mo, 'phone-mo-thread');
    // Back to the conversation: the thread is gone, the root counts both replies.
    await mo.page.tap('#thread-back');
    await mo.page.waitForSelector('#thread-panel', { state: 'hidden' });
    expect(await visible(mo.page, '#messages')).toBe(true);
    await until(mo.page, '#messages .thread-link .count', ['2 replies']);
    // The notification menu fits the phone's screen; Escape closes it.
    await mo.page.tap('#notify-toggle');
    await mo.page.waitForSelector('#notify-menu', { state: 'visible' });
    const menuBox = (await mo.page.locator('#notify-menu').boundingBox())!;
    expect(menuBox.x).toBeGreaterThanOrEqual(0);
    expect(menuBox.x + menuBox.width).toBeLessThanOrEqual(PHONE.width);
    await shot(mo, 'phone-mo-notify-menu');
    await mo.page.keyboard.press('Escape');
    await mo.page.waitForSelector('#notify-menu', { state: 'hidden' });

    // Kai sees two replies by mo and lea (latest first), and opens the thread from the count.
    await until(kai.page, '#messages .thread-link .count', ['2 replies']);
    await until(kai.page, '#messages .thread-link .people', ['mo and lea']);
    await until(lea.page, '#messages .thread-link .people', ['mo and you']);
    await kai.page.click('#messages .thread-link');
    await until(kai.page, '#replies .msg .body', ['release on friday?', '@mo can you check the build?', 'on it @kai green in 10 min']);
    expect(await texts(kai.page, '#replies .mention.me')).toEqual(['@kai']);
    expect(await texts(kai.page, '#replies .mention')).toEqual(['@mo', '@kai']);
    await shot(kai, 'desktop-kai-thread');
    // A reload keeps the thread open (it is in the address).
    await kai.page.reload();
    await until(kai.page, '#replies .msg .body', ['release on friday?', '@mo can you check the build?', 'on it @kai green in 10 min']);
    await kai.page.click('#thread-close');
    await kai.page.waitForSelector('#thread-panel', { state: 'hidden' });

    // In the main timeline too: lea mentions kai by typing, kai elsewhere gets the badge, reading clears it.
    await kai.page.click('#new-toggle');
    await kai.page.check('input[name="kind"][value="direct"]');
    await kai.page.fill('#members', 'lea');
    await kai.page.click('#new button');
    await until(kai.page, '#title', ['lea']);
    await lea.page.click('#thread-close');
    await lea.page.click('#text');
    await lea.page.keyboard.type('@ka');
    await until(lea.page, '#text-mentions li', ['@kai']);
    // The menu sits just above the box it completes.
    const [menu, box] = await Promise.all(['#text-mentions', '#text'].map((sel) => lea.page.locator(sel).boundingBox()));
    expect(menu!.y + menu!.height).toBeGreaterThan(box!.y - 20);
    expect(menu!.y + menu!.height).toBeLessThanOrEqual(box!.y + 4);
    await shot(lea, 'desktop-lea-mention-main');
    await lea.page.keyboard.press('Tab');
    await lea.page.keyboard.type('ship it');
    await lea.page.keyboard.press('Enter');
    await until(lea.page, '#messages .msg .body', ['release on friday?', '@kai ship it']);
    await until(kai.page, '#conversations .conv:first-child .badge', ['@1', '1']);
    expect(await kai.page.locator('#conversations .conv:first-child .name').innerText()).toBe('Launch');
    await pick(kai, 'Launch');
    await until(kai.page, '#conversations .conv .badge', []);
    await until(kai.page, '#messages .mention.me', ['@kai']);

    // Lea, offline, replies in the thread; meanwhile kai deletes his root. Back online, her reply is
    // refused, in words, in the thread (never in the main timeline); the thread stays (a placeholder
    // and the replies) and takes no more.
    await lea.page.click('#messages .thread-link');
    await until(lea.page, '#replies .replies-count', ['2 replies']);
    await lea.context.setOffline(true);
    await lea.page.waitForSelector('#offline', { state: 'visible' });
    await lea.page.fill('#thread-text', 'too late?');
    await lea.page.press('#thread-text', 'Enter');
    await until(lea.page, '#replies .msg.pending .body', ['too late?']);
    await kai.page.click('#messages .msg >> nth=0');
    await kai.page.click('#messages .msg >> nth=0 >> button:has-text("Delete")');
    await kai.page.click('#messages .msg >> nth=0 >> .actions button.danger');
    await until(kai.page, '#messages .msg .body', ['This message was deleted', '@kai ship it']);
    await lea.context.setOffline(false);
    await lea.page.waitForSelector('#offline', { state: 'hidden' });
    await until(lea.page, '#replies .msg.failed .body', ['too late?']);
    expect(await lea.page.locator('#replies .msg.failed .failure').innerText()).toMatch(/^Not sent: That no longer exists/);
    await until(lea.page, '#messages .msg .body', ['This message was deleted', '@kai ship it']);
    await until(lea.page, '#messages .thread-link .count', ['2 replies']);
    await until(lea.page, '#replies .msg:not(.failed) .body', ['This message was deleted', '@mo can you check the build?', 'on it @kai green in 10 min']);
    await until(lea.page, '#replies .closed', ['The first message was deleted: this thread takes no new replies.']);
    expect(await visible(lea.page, '#thread-compose')).toBe(false);
    await shot(lea, 'desktop-lea-thread-refused');
  });

  it('mutes from one tab and shows it in the other, with the badges quiet; shows who has seen the last message, from receipts on a fresh device', async () => {
    const nia = await signIn('nia');
    // When a mute ends, and how the page says it (Paris time, en-GB; a string, for the page's dynamic import).
    expect(await nia.page.evaluate(`(async () => {
      const { muteEnd, untilText } = await import('/app/mute.js');
      const now = new Date('2025-03-02T23:30:00+01:00');
      return [muteEnd('hour', undefined, now), muteEnd('tomorrow', undefined, now), muteEnd('keep', 'X', now), muteEnd('off', 'X', now) ?? null,
        untilText('2025-03-02T23:45:00+01:00', now), untilText('2025-03-03T08:00:00+01:00', now), untilText('2025-03-05T09:00:00+01:00', now)];
    })()`)).toEqual(['2025-03-02T23:30:00.000Z', '2025-03-03T07:00:00.000Z', 'X', null, '23:45', 'tomorrow 08:00', 'Wed 5 Mar 09:00']);
    const oz = await signIn('oz');
    await nia.page.click('#new-toggle');
    await nia.page.check('input[name="kind"][value="group"]');
    await nia.page.fill('#members', 'oz, pia');
    await nia.page.fill('#group-title', 'Book club');
    await nia.page.click('#new button');
    await until(nia.page, '#title', ['Book club']);
    // Nia's second tab: the same sign-in, the same conversation.
    const tab: Person = { name: 'nia-tab2', page: await nia.context.newPage(), context: nia.context, errors: [] };
    tab.page.on('pageerror', (e) => tab.errors.push(`page error: ${e.message}`));
    tab.page.on('console', (m) => m.type() === 'error' && tab.errors.push(`console: ${m.text()}`));
    people.push(tab);
    await tab.page.goto(`${sys().app.url}/`);
    await tab.page.waitForSelector('#offline', { state: 'hidden' });
    await pick(tab, 'Book club');
    const label = (p: Person) => p.page.locator('#notify-toggle').getAttribute('aria-label');
    /** The tab in front is the one the person uses; the other one, in the background, follows by itself. */
    const follows = (p: Person, want: (label: string) => boolean) => p.page.waitForFunction(
      `(${want.toString()})(document.getElementById('notify-toggle').getAttribute('aria-label'))`, undefined, { polling: 100, timeout: 15_000 });
    await nia.page.bringToFront();
    expect(await label(tab)).toBe('Notifications: all messages');

    // Tab one: the menu shows the setting; "Mentions only" closes it; the other tab follows.
    expect(await visible(nia.page, '#notify-menu')).toBe(false);
    await nia.page.click('#notify-toggle');
    await nia.page.waitForSelector('#notify-menu', { state: 'visible' });
    await until(nia.page, '#notify-menu [aria-checked="true"]', ['All messages']);
    expect(await visible(nia.page, '#notify-menu [data-mute="off"]')).toBe(false); // nothing to unmute
    await shot(nia, 'desktop-nia-notify-menu');
    await nia.page.click('#notify-menu [data-level="mentions"]');
    await nia.page.waitForSelector('#notify-menu', { state: 'hidden' });
    expect(await label(nia)).toBe('Notifications: mentions only');
    await follows(tab, (l) => l === 'Notifications: mentions only');
    // Tab two mutes until tomorrow morning; tab one shows the mute in the list and the menu, and unmutes.
    await tab.page.bringToFront();
    await tab.page.click('#notify-toggle');
    await until(tab.page, '#notify-menu [aria-checked="true"]', ['Mentions only']);
    await tab.page.click('#notify-menu [data-mute="tomorrow"]');
    await follows(nia, (l) => l === 'Muted until tomorrow 08:00');
    await nia.page.bringToFront();
    expect(await visible(nia.page, '#conversations .conv:has(.name:text-is("Book club")) .muted')).toBe(true);
    await nia.page.click('#notify-toggle');
    await until(nia.page, '#notify-status', ['Muted until tomorrow 08:00: nothing notifies you.']);
    await until(nia.page, '#notify-menu [aria-checked="true"]', ['Mentions only']);
    expect(await visible(nia.page, '#notify-menu [data-mute="off"]')).toBe(true);
    await shot(nia, 'desktop-nia-muted');
    await nia.page.click('#notify-menu [data-mute="off"]');
    await follows(tab, (l) => l === 'Notifications: mentions only');
    await tab.page.bringToFront();
    expect(await visible(tab.page, '#conversations .conv .muted')).toBe(false);
    // A mute keeps the level, a level keeps the mute.
    await tab.page.click('#notify-toggle');
    await tab.page.click('#notify-menu [data-mute="hour"]');
    await follows(nia, (l) => l.startsWith('Muted until '));
    await nia.page.bringToFront();
    await nia.page.click('#notify-toggle');
    await until(nia.page, '#notify-menu [aria-checked="true"]', ['Mentions only']);
    await nia.page.click('#notify-menu [data-level="none"]');
    await nia.page.waitForSelector('#notify-menu', { state: 'hidden' });
    expect(await label(nia)).toMatch(/^Muted until (tomorrow )?\d\d:\d\d$/);
    await tab.page.bringToFront();
    await tab.page.click('#notify-toggle');
    await until(tab.page, '#notify-menu [aria-checked="true"]', ['Nothing']);
    await tab.page.click('#notify-menu [data-mute="off"]');
    await tab.page.waitForSelector('#notify-menu', { state: 'hidden' });
    expect(await label(tab)).toBe('Notifications: nothing');
    await tab.page.click('#notify-toggle');
    await tab.page.click('#notify-menu [data-level="mentions"]');
    await tab.page.waitForSelector('#notify-menu', { state: 'hidden' });
    await follows(nia, (l) => l === 'Notifications: mentions only');
    await tab.page.close();
    await nia.page.bringToFront();
    people.splice(people.indexOf(tab), 1);

    await nia.page.click('#new-toggle');
    await nia.page.check('input[name="kind"][value="direct"]');
    await nia.page.fill('#members', 'oz');
    await nia.page.click('#new button');
    await until(nia.page, '#title', ['oz']);
    await pick(oz, 'Book club');
    await send(oz, 'who read chapter 3?');
    // (Book club is first in her list: the latest activity.)
    // Set to mentions only, the group's unread count is grey and out of the title; a mention counts.
    await until(nia.page, '#conversations .conv:first-child .badge.quiet', ['1']);
    expect(await nia.page.locator('#conversations .conv:first-child .name').innerText()).toBe('Book club');
    expect(await nia.page.title()).toBe('chat');
    await send(oz, '@nia did you?');
    await until(nia.page, '#conversations .conv:first-child .badge', ['@1', '2']);
    expect(await nia.page.locator('#conversations .conv:has(.name:text-is("Book club")) .badge.quiet').count()).toBe(1);
    expect(await nia.page.title()).toBe('(1) chat');
    await shot(nia, 'desktop-nia-mentions-only');

    // Seen by: nia answers; oz has it open and sees it at once, pia later on her phone.
    await pick(nia, 'Book club');
    await send(nia, 'yes, loved it');
    await until(nia.page, '#messages .seen-by', ['Seen by oz']);
    const pia = await signIn('pia', PHONE);
    await pia.page.tap('#conversations .conv');
    await until(pia.page, '#messages .msg .body', ['who read chapter 3?', '@nia did you?', 'yes, loved it']);
    await until(nia.page, '#messages .seen-by', ['Seen by everyone']);
    await shot(nia, 'desktop-nia-seen-by');
    // Nia on a fresh device (nothing stored): "seen by" comes from the server's receipts.
    const fresh = await signIn('nia');
    await pick(fresh, 'Book club');
    await until(fresh.page, '#messages .msg .body', ['who read chapter 3?', '@nia did you?', 'yes, loved it']);
    await until(fresh.page, '#messages .seen-by', ['Seen by everyone']);
    await until(fresh.page, '#messages .msg.mine .tick', ['✓✓']);
    await fresh.context.close();
    people.splice(people.indexOf(fresh), 1);
  });

  it('attachments: attach with progress, drop an image for a preview, a failed upload in place, download links; at 1280x800 and 390x844', async () => {
    const ines = await signIn('ines');
    const jon = await signIn('jon', PHONE);
    await ines.page.click('#new-toggle');
    await ines.page.fill('#members', 'jon');
    await ines.page.click('#new button');
    await ines.page.waitForSelector('#compose', { state: 'visible' });
    await send(ines, 'files coming');
    await until(ines.page, '#messages .msg .tick', ['✓']);

    // The upload is held at S3's door for a moment, so that its progress shows.
    const held: Array<{ continue(): Promise<void> }> = [];
    let released = false;
    const s3 = new RegExp(`^${SHARED.s3.replace(/[.]/g, '\\.')}/`);
    await ines.page.route(s3, (route) => (released ? route.continue() : void held.push(route)));
    // Dropping an image (drawn here) on the conversation attaches it, with its preview.
    await ines.page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 320;
      canvas.height = 200;
      const g = canvas.getContext('2d');
      const grad = g.createLinearGradient(0, 0, 320, 200);
      grad.addColorStop(0, '#2563eb');
      grad.addColorStop(1, '#f59e0b');
      g.fillStyle = grad;
      g.fillRect(0, 0, 320, 200);
      g.fillStyle = '#fff';
      g.font = 'bold 40px sans-serif';
      g.fillText('summit.png', 40, 115);
      const blob: any = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
      const data = new (document.defaultView.DataTransfer)();
      data.items.add(new (document.defaultView.File)([blob], 'summit.png', { type: 'image/png' }));
      const zone = document.getElementById('main-col');
      zone.dispatchEvent(new (document.defaultView.DragEvent)('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new (document.defaultView.DragEvent)('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await ines.page.waitForSelector('#tray .upload.uploading progress');
    expect(await ines.page.locator('#tray .upload.uploading .file-size').innerText()).toMatch(/^0% of \d+(\.\d)? KB$/);
    expect(await ines.page.locator('#tray .upload img.thumb').evaluate((img: any) => img.complete && img.naturalWidth)).toBe(320);
    await ines.page.waitForFunction(() => document.querySelector('#tray .upload.uploading') !== null);
    await ines.page.fill('#text', 'too early');
    await ines.page.press('#text', 'Enter');
    expect(await ines.page.locator('#compose-error').innerText()).toBe('Wait until the files are uploaded.');
    await shot(ines, 'attach-uploading');
    await waitFor('the held upload', () => held.length > 0, 10_000);
    released = true;
    for (const r of held.splice(0)) await r.continue();
    await ines.page.unroute(s3);
    await ines.page.waitForSelector('#tray .upload.ready');

    // Picked with the paperclip's file input: a document; and one over the limit, which fails in place.
    const notes = Buffer.from('Day 1: the ridge.\nDay 2: the summit.\n');
    await ines.page.setInputFiles('#file', { name: 'route notes.txt', mimeType: 'text/plain', buffer: notes });
    await ines.page.setInputFiles('#file', { name: 'raw-video.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(8 * 1024 * 1024 + 1) });
    await ines.page.waitForSelector('#tray .upload.failed');
    expect(await ines.page.locator('#tray .upload.failed .failure').innerText()).toMatch(/^Upload failed: That is too large/);
    await until(ines.page, '#tray .upload .file-name', ['summit.png', 'route notes.txt', 'raw-video.bin']);
    await ines.page.waitForSelector('#tray .upload.ready >> nth=1');
    await ines.page.press('#text', 'Enter');
    expect(await ines.page.locator('#compose-error').innerText()).toBe('Retry or remove the file that did not upload.');
    await shot(ines, 'attach-failed');
    await ines.page.click('#tray .upload.failed .remove');
    await until(ines.page, '#tray .upload .file-name', ['summit.png', 'route notes.txt']);
    await ines.page.fill('#text', 'the plan');
    await ines.page.press('#text', 'Enter');
    await until(ines.page, '#messages .msg .tick', ['✓', '✓']);
    expect(await visible(ines.page, '#tray')).toBe(false);
    await ines.page.waitForFunction(() => {
      const img = document.querySelector('#messages .msg .files .image img');
      return img && img.complete && img.naturalWidth === 320;
    });
    await until(ines.page, '#messages .msg .files a.file .file-name', ['route notes.txt']);
    await shot(ines, 'attach-desktop');

    // Jon, on a phone: the list previews the files, the image shows, the document downloads.
    await until(jon.page, '#conversations .conv .preview', ['2 files · the plan']);
    await pick(jon, 'ines');
    await jon.page.waitForFunction(() => {
      const img = document.querySelector('#messages .msg .files .image img');
      return img && img.complete && img.naturalWidth === 320;
    });
    const link = jon.page.locator('#messages .msg .files a.file');
    expect(await link.getAttribute('download')).toBe('route notes.txt');
    expect(await link.innerText()).toMatch(new RegExp(`route notes\\.txt\\s+${notes.length} B`));
    const got = await fetch((await link.getAttribute('href'))!);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(notes);
    expect(got.headers.get('content-disposition')).toContain("filename*=UTF-8''route%20notes.txt");
    await shot(jon, 'attach-phone');
    // And attaches on the phone: the tray fits its width; a file alone is a message.
    await jon.page.setInputFiles('#file', { name: 'a-rather-long-name-for-the-gear-list-of-the-trip.csv', mimeType: 'text/csv', buffer: Buffer.from('rope,1\nhelmet,2\n') });
    await jon.page.waitForSelector('#tray .upload.ready');
    await shot(jon, 'attach-phone-tray');
    await jon.page.click('#send');
    await until(ines.page, '#messages .msg .files a.file .file-name', ['route notes.txt', 'a-rather-long-name-for-the-gear-list-of-the-trip.csv']);
    expect(await jon.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  });

  it('pages back through a long conversation', async () => {
    const gus = await sys().connect('gus');
    const { conversation } = await gus.ok('conversation:create', { type: 'direct', members: ['hal'] });
    for (let i = 0; i < 35; i++) await gus.ok('message:send', { conversationId: conversation.id, clientMsgId: `g${i}`, body: `message ${i}` });
    const hal = await signIn('hal');
    await until(hal.page, '#conversations .conv .badge', ['35']);
    await pick(hal, 'gus');
    await until(hal.page, '#messages .msg .body', Array.from({ length: 30 }, (_, i) => `message ${i + 5}`));
    expect(await hal.page.locator('#messages .older button').innerText()).toBe('Show older messages');
    // As a person reaches it: scrolling up to the top loads the page before (a click on the
    // button would race that load, which takes the button away when nothing older is left).
    await hal.page.hover('#messages');
    await hal.page.mouse.wheel(0, -100_000);
    await until(hal.page, '#messages .msg .body', Array.from({ length: 35 }, (_, i) => `message ${i}`));
    expect(await hal.page.locator('#messages .older').count()).toBe(0);
    await until(hal.page, '#conversations .conv .badge', []);
  });
  it('searches messages: hits with their words marked, a hit opens its conversation at the message (paged back to it); at phone width too', async () => {
    const ivy = await sys().connect('ivy');
    const { conversation } = await ivy.ok('conversation:create', { type: 'group', members: ['jack'], title: 'Kitchen' });
    for (let i = 0; i < 45; i++) {
      const body = i === 4 ? 'the secret recipe for tiramisu, at last' : i === 40 ? 'tiramisu again on Friday?' : `filler ${i}`;
      await ivy.ok('message:send', { conversationId: conversation.id, clientMsgId: `k${i}`, body });
    }
    await caughtUp(sys().ns);
    const jack = await signIn('jack');
    await until(jack.page, '#conversations .conv .name', ['Kitchen']);
    await jack.page.fill('#search-query', 'tiramisu');
    await jack.page.press('#search-query', 'Enter');
    await until(jack.page, '#hits .hit .preview', ['ivy: tiramisu again on Friday?', 'ivy: the secret recipe for tiramisu, at last']);
    expect(await texts(jack.page, '#hits .hit mark')).toEqual(['tiramisu', 'tiramisu']);
    expect(await texts(jack.page, '#hits .hit .name')).toEqual(['Kitchen', 'Kitchen']);
    expect(await visible(jack.page, '#conversations')).toBe(false);
    await shot(jack, 'search-desktop');
    // The older hit is not in the first page of history: the client pages back to it.
    await jack.page.click('#hits .hit:has-text("secret recipe")');
    await until(jack.page, '#messages .msg.found .body', ['the secret recipe for tiramisu, at last']);
    // In view, read by its text: its mark lasts 2 s, which a slow machine may have used up already.
    expect(await jack.page.evaluate((body) => {
      const el = [...document.querySelectorAll('#messages .msg')].find((m) => m.querySelector('.body')?.textContent === body);
      const box = el?.getBoundingClientRect();
      const pane = document.querySelector('#messages')!.getBoundingClientRect();
      return !!box && box.height > 0 && box.top >= pane.top && box.bottom <= pane.bottom;
    }, 'the secret recipe for tiramisu, at last')).toBe(true);
    await shot(jack, 'search-jump-desktop');
    // Nothing to look up: said in words; Escape brings the list back.
    await jack.page.fill('#search-query', '-tiramisu');
    await jack.page.press('#search-query', 'Enter');
    await jack.page.waitForSelector('#search-error', { state: 'visible' });
    expect(await jack.page.locator('#search-error').innerText()).toContain('Type a word to search for');
    expect(await texts(jack.page, '#hits .hit')).toEqual([]);
    await jack.page.press('#search-query', 'Escape');
    expect(await visible(jack.page, '#conversations')).toBe(true);
    expect(await visible(jack.page, '#search-results')).toBe(false);

    const phone = await signIn('jack', PHONE);
    await phone.page.fill('#search-query', 'recipe');
    await phone.page.press('#search-query', 'Enter');
    await until(phone.page, '#hits .hit .preview', ['ivy: the secret recipe for tiramisu, at last']);
    await shot(phone, 'search-phone');
    await phone.page.click('#hits .hit');
    await until(phone.page, '#messages .msg.found .body', ['the secret recipe for tiramisu, at last']);
    expect(await visible(phone.page, '#sidebar')).toBe(false);
    await shot(phone, 'search-jump-phone');
  });
});
