/**
 * The headline of a run: the 1:1 message path of the chat, the raw Socket.IO relay and
 * the naive baseline side by side, with the previous run's figures of the same results
 * file beside them.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RateStep } from './scenarios/rate-steps';
import { round, table } from './stats';

/** What the headline reads of a 1:1 result; a previous run's JSON has the same shape. */
export interface OneToOneFigures {
  best?: RateStep;
  half?: RateStep;
}

export interface Headline {
  sendsPerS: number | null;
  deliveriesPerS: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  cpuUsPerDelivery: number | null;
  servicesCpuUsPerDelivery: number | null;
  halfCpuUsPerDelivery: number | null;
  halfServicesCpuUsPerDelivery: number | null;
}

const num = (x: number | null | undefined, digits = 0) => (x === null || x === undefined ? null : round(x, digits));

export function headlineOf(r: OneToOneFigures | undefined): Headline {
  return {
    sendsPerS: num(r?.best?.sendsPerS), deliveriesPerS: num(r?.best?.deliveriesPerS),
    p50Ms: num(r?.half?.latency.p50, 1), p99Ms: num(r?.half?.latency.p99, 1),
    cpuUsPerDelivery: num(r?.best?.cpu?.usPerDelivery), servicesCpuUsPerDelivery: num(r?.best?.cpu?.servicesUsPerDelivery),
    halfCpuUsPerDelivery: num(r?.half?.cpu?.usPerDelivery), halfServicesCpuUsPerDelivery: num(r?.half?.cpu?.servicesUsPerDelivery),
  };
}

/** The flat keys of results JSON for one system: `sends_per_s`, `naive_cpu_us_per_delivery`, ... */
export function headlineKeys(prefix: string, h: Headline): Record<string, number | null> {
  return {
    [`${prefix}sends_per_s`]: h.sendsPerS, [`${prefix}deliveries_per_s`]: h.deliveriesPerS, [`${prefix}p50_ms`]: h.p50Ms, [`${prefix}p99_ms`]: h.p99Ms,
    [`${prefix}cpu_us_per_delivery`]: h.cpuUsPerDelivery, [`${prefix}services_cpu_us_per_delivery`]: h.servicesCpuUsPerDelivery,
    [`${prefix}half_cpu_us_per_delivery`]: h.halfCpuUsPerDelivery, [`${prefix}half_services_cpu_us_per_delivery`]: h.halfServicesCpuUsPerDelivery,
  };
}

export interface PreviousRun {
  file: string;
  at: string | null;
  chat: Headline;
  relay: Headline;
  naive: Headline;
}

/** The previous results file of the same stem, read before this run overwrites it; undefined when there is none or it does not parse. */
export function readPrevious(file: string): PreviousRun | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as { at?: string; chat?: OneToOneFigures; relay?: OneToOneFigures; naive?: OneToOneFigures };
    return { file, at: r.at ?? null, chat: headlineOf(r.chat ?? undefined), relay: headlineOf(r.relay ?? undefined), naive: headlineOf(r.naive ?? undefined) };
  } catch {
    return undefined;
  }
}

/** The headline table: one row per figure, a column per system, the previous run's three in one column. */
export function headlineTable(now: { chat: Headline; relay: Headline; naive: Headline }, previous: PreviousRun | undefined): string {
  const rows: Array<[string, (h: Headline) => string | number | null]> = [
    ['highest sustained sends/s (p99 <= 200 ms)', (h) => h.sendsPerS],
    ['deliveries/s at that rate', (h) => h.deliveriesPerS],
    ['p50 / p99 send-to-deliver at half that rate (ms)', (h) => (h.p50Ms === null ? null : `${h.p50Ms} / ${h.p99Ms}`)],
    ['product CPU per delivery at that rate (µs; the started processes and their children)', (h) => h.cpuUsPerDelivery],
    ['shared services CPU per delivery at that rate (µs; nats-server, postgres, redis-server)', (h) => h.servicesCpuUsPerDelivery],
    ['product CPU per delivery at half that rate (µs)', (h) => h.halfCpuUsPerDelivery],
    ['shared services CPU per delivery at half that rate (µs)', (h) => h.halfServicesCpuUsPerDelivery],
  ];
  const cell = (v: string | number | null) => (v === null ? '-' : String(v));
  const head = previous ? `previous run ${previous.at?.slice(0, 16) ?? ''}: chat · relay · naive` : 'previous run (none)';
  return table(['1:1 message path', 'chat', 'raw Socket.IO relay', 'naive (INSERT, then relay)', head], rows.map(([name, f]) => [
    name, f(now.chat), f(now.relay), f(now.naive),
    previous ? [previous.chat, previous.relay, previous.naive].map((h) => cell(f(h))).join(' · ') : null,
  ]));
}
