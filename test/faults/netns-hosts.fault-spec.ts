import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { isRunning } from '../support/process-group';
import { createHosts, faultRules, removeStaleHosts, type NetHosts } from '../support/netns-hosts';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

const PORT = 7070;
/** A TCP server on every address of the host: answers `ok` and closes. */
const SERVER = `require('net').createServer((s) => s.end('ok')).listen(${PORT}, '0.0.0.0')`;
/** Exits 0 when a connection to argv[1]:PORT gets `ok` within 700 ms, 1 otherwise. */
const PROBE = `const s = require('net').connect(${PORT}, process.argv[1]); let d = '';
s.on('data', (c) => (d += c)); s.on('end', () => process.exit(d === 'ok' ? 0 : 1)); s.on('error', () => process.exit(1));
setTimeout(() => process.exit(1), 700);`;

function fromRoot(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(PORT, ip);
    let data = '';
    const timer = setTimeout(() => (s.destroy(), resolve(false)), 700);
    s.on('data', (c) => (data += c.toString()));
    s.on('end', () => (clearTimeout(timer), resolve(data === 'ok')));
    s.on('error', () => (clearTimeout(timer), resolve(false)));
  });
}

describe('test hosts: network namespaces on a bridge of their own', () => {
  let net: NetHosts | undefined;
  const servers: ChildProcess[] = [];
  const reaches = (from: string, to: string) => {
    try {
      execFileSync('ip', ['netns', 'exec', net!.host(from).ns, process.execPath, '-e', PROBE, net!.host(to).ip], { stdio: 'ignore', timeout: 5_000 });
      return true;
    } catch {
      return false;
    }
  };
  const matrix = () => ['a', 'b', 'c'].flatMap((f) => ['a', 'b', 'c'].filter((t) => t !== f).map((t) => `${f}->${t}:${reaches(f, t) ? 'y' : 'n'}`));

  afterAll(() => {
    net?.destroy();
  });

  it('connects hosts to each other and to the root namespace, cuts them as asked, heals, and removes everything', async () => {
    net = createHosts(['a', 'b', 'c']);
    for (const h of ['a', 'b', 'c']) {
      servers.push(spawn('ip', ['netns', 'exec', net.host(h).ns, process.execPath, '-e', SERVER], { stdio: 'ignore' }));
    }
    for (const h of ['a', 'b', 'c']) await waitFor(`the server on ${h}`, () => fromRoot(net!.host(h).ip), 10_000, 50);
    // A host's loopback is its own: nothing of the root namespace listens there.
    expect(net.host('a').ip).toMatch(/^10\.231\.\d+\.1\d$/);
    expect(matrix()).toEqual(['a->b:y', 'a->c:y', 'b->a:y', 'b->c:y', 'c->a:y', 'c->b:y']);

    net.partition(['a'], ['b', 'c']);
    expect(matrix()).toEqual(['a->b:n', 'a->c:n', 'b->a:n', 'b->c:y', 'c->a:n', 'c->b:y']);
    // The root namespace (the test's probes and clients) still reaches every host.
    for (const h of ['a', 'b', 'c']) expect(await fromRoot(net.host(h).ip)).toBe(true);
    net.heal();
    expect(faultRules(net.host('a'))).not.toMatch(/DROP/);
    expect(matrix()).toEqual(['a->b:y', 'a->c:y', 'b->a:y', 'b->c:y', 'c->a:y', 'c->b:y']);

    // One direction: a's packets to b are dropped; b's connection to a cannot complete either
    // (the answer is lost), but c is untouched.
    net.dropOneWay(['a'], ['b']);
    expect(matrix()).toEqual(['a->b:n', 'a->c:y', 'b->a:n', 'b->c:y', 'c->a:y', 'c->b:y']);
    net.heal();

    net.loss('c', 1);
    expect(matrix()).toEqual(['a->b:y', 'a->c:n', 'b->a:y', 'b->c:n', 'c->a:n', 'c->b:n']);
    expect(await fromRoot(net.host('c').ip)).toBe(true);
    net.heal();

    net.linkDown('b');
    expect(await fromRoot(net.host('b').ip)).toBe(false);
    expect(reaches('a', 'b')).toBe(false);
    net.linkUp('b');
    await waitFor('b back', () => fromRoot(net!.host('b').ip), 10_000, 50);
    expect(reaches('a', 'b')).toBe(true);

    const prefix = net.prefix;
    const pids = ['a', 'b', 'c'].flatMap((h) => net!.pids(h));
    expect(pids.length).toBeGreaterThanOrEqual(3);
    net.destroy();
    expect(execFileSync('ip', ['netns', 'list']).toString()).not.toContain(prefix);
    expect(execFileSync('ip', ['-o', 'link', 'show']).toString()).not.toContain(prefix);
    // Killed (zombies of this process until it reaps them run nothing).
    expect(pids.filter(isRunning)).toEqual([]);
  });

  it('removes what a run whose process is gone left behind', () => {
    // A pid above the kernel's pid_max (2^22) cannot run: that run is stale.
    const stale = `ptn${(4_194_305).toString(36)}`;
    execFileSync('ip', ['netns', 'add', `${stale}-x`]);
    execFileSync('ip', ['link', 'add', `${stale}br`, 'type', 'bridge']);
    removeStaleHosts();
    expect(execFileSync('ip', ['netns', 'list']).toString()).not.toContain(stale);
    expect(execFileSync('ip', ['-o', 'link', 'show']).toString()).not.toContain(stale);
  });
});
