/**
 * CPU time of process trees from /proc, for the benchmark's "CPU per delivered message".
 * A tree's time is utime + stime of every live process under its root plus cutime +
 * cstime of each (the time of children that exited and were reaped), so a child that
 * exits during a step still counts: its time moves into its parent's cutime.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, own threads. */
  ticks: number;
  /** cutime + cstime, reaped children. */
  childTicks: number;
}

let clockTicks: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, 100 on Linux almost always). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone between the listing and the read
  }
  // comm may hold spaces and parentheses: the fields after it start after the last ')'.
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
  return { pid, comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]) };
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** Ticks of the trees under `roots` in one snapshot of /proc. */
function treeTicks(stats: ProcStat[], roots: number[]): number {
  const children = new Map<number, ProcStat[]>();
  const byPid = new Map<number, ProcStat>();
  for (const s of stats) {
    byPid.set(s.pid, s);
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  let total = 0;
  const seen = new Set<number>();
  const stack = roots.map((r) => byPid.get(r)).filter((s): s is ProcStat => s !== undefined);
  while (stack.length) {
    const s = stack.pop()!;
    if (seen.has(s.pid)) continue;
    seen.add(s.pid);
    total += s.ticks + s.childTicks;
    stack.push(...(children.get(s.pid) ?? []));
  }
  return total;
}

/** Inodes of the sockets listening on `ports` (IPv4 and IPv6). */
function listeningInodes(ports: number[]): Set<string> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A: LISTEN
      if (ports.includes(parseInt(f[1]!.split(':')[1]!, 16))) inodes.add(f[9]!);
    }
  }
  return inodes;
}

function holdsSocket(pid: number, inodes: Set<string>): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        return m !== null && inodes.has(m[1]!);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

export interface SharedService {
  name: string;
  /** Roots of its process trees (the postmaster, the nats-server, the redis-server). */
  pids: number[];
  /** Whether the roots were told apart by the listening port or only by name. */
  byPort: boolean;
}

/**
 * The shared services of the message path, found by process name: the top process of
 * each name (its parent has another name). Private instances that fault tests start on
 * other ports carry the same names, so where a top process holds the socket listening
 * on the shared port, only those count.
 */
export function sharedServices(ports: Record<string, number>): SharedService[] {
  const stats = allStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  return Object.entries(ports).map(([name, port]) => {
    const tops = stats.filter((s) => s.comm === name && byPid.get(s.ppid)?.comm !== name).map((s) => s.pid);
    const inodes = listeningInodes([port]);
    const listening = tops.filter((pid) => holdsSocket(pid, inodes));
    return listening.length ? { name, pids: listening, byPort: true } : { name, pids: tops, byPort: false };
  });
}

export interface CpuSample {
  at: number;
  productTicks: number;
  serviceTicks: Record<string, number>;
}

/** CPU of one step: product trees and shared services, absolute and per delivery. */
export interface StepCpu {
  seconds: number;
  productCpuS: number;
  servicesCpuS: number;
  byService: Record<string, number>;
  /** Product CPU time over wall time: how many cores the product kept busy. */
  productCores: number;
  usPerDelivery: number | null;
  servicesUsPerDelivery: number | null;
}

/** Samples the CPU time of the product's process trees (`roots`) and of the shared services. */
export class CpuMeter {
  constructor(readonly roots: number[], readonly services: SharedService[]) {}

  sample(): CpuSample {
    const stats = allStats();
    const serviceTicks: Record<string, number> = {};
    for (const s of this.services) serviceTicks[s.name] = treeTicks(stats, s.pids);
    return { at: performance.now(), productTicks: treeTicks(stats, this.roots), serviceTicks };
  }

  between(a: CpuSample, b: CpuSample, deliveries: number): StepCpu {
    const hz = ticksPerSecond();
    const byService: Record<string, number> = {};
    for (const name of Object.keys(b.serviceTicks)) byService[name] = (b.serviceTicks[name]! - (a.serviceTicks[name] ?? 0)) / hz;
    const productCpuS = (b.productTicks - a.productTicks) / hz;
    const servicesCpuS = Object.values(byService).reduce((x, y) => x + y, 0);
    const seconds = (b.at - a.at) / 1000;
    return {
      seconds, productCpuS, servicesCpuS, byService, productCores: productCpuS / Math.max(seconds, 1e-3),
      usPerDelivery: deliveries > 0 ? (productCpuS * 1e6) / deliveries : null,
      servicesUsPerDelivery: deliveries > 0 ? (servicesCpuS * 1e6) / deliveries : null,
    };
  }
}
