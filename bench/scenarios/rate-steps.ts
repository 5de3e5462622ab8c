import type { CpuMeter, StepCpu } from '../cpu';
import type { LoadPool } from '../load-pool';
import type { Send } from '../load-protocol';
import { percentiles, type Percentiles } from '../stats';

/** Where latency counts as "no longer keeping up" (issue: p99 send-to-deliver over 200 ms). */
export const P99_LIMIT_MS = 200;

export interface RateStep {
  offered: number;
  sendsPerS: number;
  deliveriesPerS: number;
  deliveries: number;
  expected: number;
  latency: Percentiles;
  ack: Percentiles;
  errors: Record<string, number>;
  sustained: boolean;
  /** CPU time of the product's processes and of the shared services over the step, when metered. */
  cpu?: StepCpu;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Sends at `rate` per second for `seconds` from every load process, then waits (up to
 * 15 s) for the `fanout` deliveries each acked send should cause. Rates are measured
 * from the first send to the last ack or delivery, so a backlog counts against them.
 * With a `cpu` meter, CPU time is read from the first send to the last delivery.
 */
export async function runAtRate(pool: LoadPool, sends: Send[][], rate: number, seconds: number, tag: string, fanout: number, cpu?: CpuMeter): Promise<RateStep> {
  await pool.all(() => ({ type: 'collect' }), 'collected');
  const cpuBefore = cpu?.sample();
  const loads = await pool.all((i) => ({ type: 'load', sends: sends[i]!, rate: rate / pool.size, seconds, tag }), 'loaded');
  const acked = sum(loads.map((l) => l.report.acked));
  const expected = acked * fanout;
  const latencies: number[] = [];
  let deliveries = 0;
  let lastDeliveryAt = 0;
  const deadline = Date.now() + 15_000;
  for (;;) {
    for (const c of await pool.all(() => ({ type: 'collect' }), 'collected')) {
      deliveries += c.deliveries;
      for (const l of c.latencies) latencies.push(l);
      lastDeliveryAt = Math.max(lastDeliveryAt, c.lastDeliveryAt);
    }
    if (deliveries >= expected || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const cpuAfter = cpu?.sample();
  const startedAt = Math.min(...loads.map((l) => l.report.startedAt));
  const lastAckAt = Math.max(...loads.map((l) => l.report.lastAckAt));
  const errors: Record<string, number> = {};
  for (const l of loads) for (const [code, n] of Object.entries(l.report.errors)) errors[code] = (errors[code] ?? 0) + n;
  const latency = percentiles(latencies);
  const sendsPerS = acked / Math.max(seconds, (lastAckAt - startedAt) / 1000);
  const deliveriesPerS = deliveries / Math.max(seconds, (lastDeliveryAt - startedAt) / 1000);
  return {
    offered: rate, sendsPerS, deliveriesPerS, deliveries, expected, latency,
    ack: percentiles(loads.flatMap((l) => l.report.ackLatencies)), errors,
    sustained: latency.p99 <= P99_LIMIT_MS && sendsPerS >= 0.9 * rate && deliveries >= expected && Object.keys(errors).length === 0,
    ...(cpu && cpuBefore && cpuAfter && { cpu: cpu.between(cpuBefore, cpuAfter, deliveries) }),
  };
}

/**
 * Raises the offered rate step by step (x1.4) until a step is not sustained; the highest
 * sustained step is the figure. `onStep` reports each as it finishes.
 */
export async function stepUntilSaturated(
  pool: LoadPool, sends: Send[][], opts: { start: number; seconds: number; fanout: number; tag: string; maxSteps?: number; cpu?: CpuMeter },
  onStep: (s: RateStep) => void,
): Promise<{ steps: RateStep[]; best: RateStep | undefined }> {
  const steps: RateStep[] = [];
  let rate = opts.start;
  for (let i = 0; i < (opts.maxSteps ?? 24); i++) {
    const step = await runAtRate(pool, sends, Math.round(rate), opts.seconds, `${opts.tag}${i}`, opts.fanout, opts.cpu);
    steps.push(step);
    onStep(step);
    if (!step.sustained) break;
    rate *= 1.4;
  }
  const sustained = steps.filter((s) => s.sustained);
  return { steps, best: sustained.sort((a, b) => b.sendsPerS - a.sendsPerS)[0] };
}
