import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Test hosts of their own: one network namespace per host, each with a veth pair whose
 * other end is on a bridge made for the run, on a /24 of 10.231.0.0/16 no other run uses.
 * The root namespace has the bridge's first address (the test's clients and probes are one
 * of those hosts). Faults act on the hosts only: a host's link down, iptables rules in a
 * host's namespace (drops between hosts, one direction or both, random loss), never on
 * the root namespace's rules or on any real interface.
 *
 * Names carry the run's prefix `ptn<pid in base 36>`: a run removes what runs whose
 * process is gone left behind (namespaces, bridge, veths, the state dir) before it starts.
 */
export interface NetHost {
  /** Short name, e.g. `nats1`. */
  name: string;
  /** The namespace's name (`ip netns`). */
  ns: string;
  ip: string;
  /** argv prefix that runs a command on this host: `ip netns exec <ns>`. */
  exec: string[];
}

export interface NetHosts {
  prefix: string;
  /** The root namespace's address on the bridge (where test clients connect from). */
  rootIp: string;
  hosts: Record<string, NetHost>;
  host(name: string): NetHost;
  /** The host's link down (its veth end in its namespace): nothing goes in or out. */
  linkDown(name: string): void;
  linkUp(name: string): void;
  /** Packets between `from` and `to` dropped in both directions (every pair across the two sides). */
  partition(sideA: string[], sideB: string[]): void;
  /** Packets from `from` to `to` dropped, the other direction left alone (dropped where they leave and where they arrive). */
  dropOneWay(from: string[], to: string[]): void;
  /** Every packet in or out of the host dropped with this probability (iptables `statistic`), toward other hosts. */
  loss(name: string, probability: number): void;
  /** Removes every drop and loss rule on every host: the network heals. */
  heal(): void;
  /** What runs on the host now (pids of `ip netns pids`). */
  pids(name: string): number[];
  /** Kills everything on every host and removes namespaces, veths, bridge and state. Idempotent. */
  destroy(): void;
}

const FAMILY = 'ptn';
const STATE_ROOT = '/run/chat-netns';
const CHAIN = 'CHATFAULT';

function run(argv: string[], opts: { quiet?: boolean } = {}): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 }).toString();
  } catch (err) {
    if (opts.quiet) return '';
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`${argv.join(' ')}: ${e.stderr?.toString().trim() || e.message}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function namespaces(): string[] {
  return run(['ip', 'netns', 'list'], { quiet: true }).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

/** Kills what runs in the namespace, then removes it (its veth end goes with it). */
function removeNamespace(ns: string): void {
  for (let round = 0; round < 3; round++) {
    const pids = run(['ip', 'netns', 'pids', ns], { quiet: true }).split('\n').filter(Boolean).map(Number);
    if (!pids.length) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const until = Date.now() + 2_000;
    while (pids.some(alive) && Date.now() < until) execFileSync('sleep', ['0.02']);
  }
  run(['ip', 'netns', 'del', ns], { quiet: true });
}

function removeRun(prefix: string): void {
  for (const ns of namespaces()) if (ns.startsWith(`${prefix}-`)) removeNamespace(ns);
  for (const line of run(['ip', '-o', 'link', 'show'], { quiet: true }).split('\n')) {
    const dev = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (dev?.startsWith(prefix)) run(['ip', 'link', 'del', dev], { quiet: true });
  }
  rmSync(join(STATE_ROOT, prefix), { recursive: true, force: true });
}

/** Removes what runs of this family whose process is gone left behind. */
export function removeStaleHosts(): void {
  const prefixes = new Set<string>();
  for (const ns of namespaces()) if (ns.startsWith(FAMILY)) prefixes.add(ns.split('-')[0]!);
  for (const line of run(['ip', '-o', 'link', 'show'], { quiet: true }).split('\n')) {
    const dev = /^\d+: ([^:@]+)/.exec(line)?.[1];
    const m = dev && new RegExp(`^(${FAMILY}[0-9a-z]+)(br|v)`).exec(dev);
    if (m) prefixes.add(m[1]!);
  }
  if (existsSync(STATE_ROOT)) for (const d of readdirSync(STATE_ROOT)) if (d.startsWith(FAMILY)) prefixes.add(d);
  for (const prefix of prefixes) {
    const pid = parseInt(prefix.slice(FAMILY.length), 36);
    if (pid !== process.pid && !alive(pid)) removeRun(prefix);
  }
}

/** A /24 in 10.231.0.0/16 that no interface of the root namespace is on. */
function freeSubnet(): number {
  const used = run(['ip', '-4', '-o', 'addr', 'show']);
  const taken = new Set([...used.matchAll(/inet 10\.231\.(\d+)\./g)].map((m) => Number(m[1])));
  for (let tries = 0; tries < 256; tries++) {
    const x = Math.floor(Math.random() * 256);
    if (!taken.has(x)) return x;
  }
  throw new Error('no free /24 in 10.231.0.0/16');
}

/** Makes one host per name on a bridge of its own; `destroy` (also run at the process's exit) removes them. */
export function createHosts(names: string[]): NetHosts {
  if (process.getuid?.() !== 0) throw new Error('test hosts need root (network namespaces, veth, iptables)');
  for (const bin of ['/usr/sbin/ip', '/usr/sbin/iptables']) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run deploy/local/prepare.sh (it installs iptables)`);
  }
  removeStaleHosts();
  const prefix = `${FAMILY}${process.pid.toString(36)}`;
  removeRun(prefix);
  const state = join(STATE_ROOT, prefix);
  mkdirSync(state, { recursive: true });
  const x = freeSubnet();
  const rootIp = `10.231.${x}.1`;
  const bridge = `${prefix}br`;
  const hosts: Record<string, NetHost> = {};
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    removeRun(prefix);
    process.removeListener('exit', destroy);
  };
  process.once('exit', destroy);
  try {
    run(['ip', 'link', 'add', bridge, 'type', 'bridge']);
    run(['ip', 'addr', 'add', `${rootIp}/24`, 'dev', bridge]);
    run(['ip', 'link', 'set', bridge, 'up']);
    names.forEach((name, i) => {
      const ns = `${prefix}-${name}`;
      const outside = `${prefix}v${i}`;
      const ip = `10.231.${x}.${10 + i}`;
      run(['ip', 'netns', 'add', ns]);
      run(['ip', 'link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      run(['ip', 'link', 'set', outside, 'master', bridge, 'up']);
      run(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      // The fault rules live in a chain of their own, so healing is one flush.
      const ipt = ['ip', 'netns', 'exec', ns, 'iptables', '-w'];
      run([...ipt, '-N', CHAIN]);
      run([...ipt, '-A', 'INPUT', '-j', CHAIN]);
      run([...ipt, '-A', 'OUTPUT', '-j', CHAIN]);
      hosts[name] = { name, ns, ip, exec: ['ip', 'netns', 'exec', ns] };
    });
    writeFileSync(join(state, 'hosts.json'), JSON.stringify({ rootIp, hosts }, null, 2));
  } catch (err) {
    destroy();
    throw err;
  }

  const host = (name: string): NetHost => {
    const h = hosts[name];
    if (!h) throw new Error(`no test host ${name}`);
    return h;
  };
  const iptables = (name: string, rule: string[]) => run([...host(name).exec, 'iptables', '-w', '-A', CHAIN, ...rule]);
  const dropOneWay = (from: string[], to: string[]) => {
    for (const a of from) {
      for (const b of to) {
        iptables(a, ['-o', 'eth0', '-d', host(b).ip, '-j', 'DROP']);
        iptables(b, ['-i', 'eth0', '-s', host(a).ip, '-j', 'DROP']);
      }
    }
  };
  /** Addresses of the other hosts: loss never touches the root namespace's probes. */
  const others = (name: string) => Object.values(hosts).filter((h) => h.name !== name).map((h) => h.ip).join(',');

  return {
    prefix,
    rootIp,
    hosts,
    host,
    linkDown: (name) => void run(['ip', '-n', host(name).ns, 'link', 'set', 'eth0', 'down']),
    linkUp: (name) => void run(['ip', '-n', host(name).ns, 'link', 'set', 'eth0', 'up']),
    partition: (a, b) => {
      dropOneWay(a, b);
      dropOneWay(b, a);
    },
    dropOneWay,
    loss: (name, probability) => {
      const p = String(probability);
      iptables(name, ['-o', 'eth0', '-d', others(name), '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP']);
      iptables(name, ['-i', 'eth0', '-s', others(name), '-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP']);
    },
    heal: () => {
      for (const h of Object.values(hosts)) run([...h.exec, 'iptables', '-w', '-F', CHAIN]);
    },
    pids: (name) => run(['ip', 'netns', 'pids', host(name).ns], { quiet: true }).split('\n').filter(Boolean).map(Number),
    destroy,
  };
}

/** The rules in a host's fault chain now (for failure messages). */
export function faultRules(h: NetHost): string {
  return run([...h.exec, 'iptables', '-w', '-S', CHAIN], { quiet: true });
}
