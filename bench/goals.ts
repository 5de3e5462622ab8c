/**
 * The goals for the message path, each checked against this run's figures: the
 * figure, what it is compared with (a ceiling of the same run, or a fixed limit), the
 * ratio and pass or fail. A goal whose figure or ceiling this run did not measure says so.
 */
import { round, table } from './stats';

export interface Goal {
  goal: string;
  figure: string | null;
  against: string | null;
  ratio: number | null;
  result: 'pass' | 'fail' | 'not measured';
}

export interface GoalInputs {
  chatSendsPerS?: number;
  chatDeliveriesPerS?: number;
  chatHalfP99Ms?: number;
  jetstreamPublishPerS?: number;
  jetstreamConsumePerS?: number;
  relayDeliveriesPerS?: number;
  naiveDeliveriesPerS?: number;
  replayPerS?: number;
  storm?: { seconds: number; missing: number };
  groups500?: Partial<Record<'push' | 'pull', { p99Ms: number; deliveries: number; expected: number }>>;
  kbPerConnection?: number;
  heavy?: { p99Ratio: number; alone: number; beside: number; complete: boolean };
}

/** figure / ceiling must be at least `need`. */
function share(goal: string, figure: number | undefined, ceilingName: string, ceiling: number | undefined, need: number): Goal {
  const against = ceiling === undefined ? null : `${ceilingName} ${Math.round(ceiling)}`;
  if (figure === undefined || !ceiling) return { goal, figure: figure === undefined ? null : String(Math.round(figure)), against, ratio: null, result: 'not measured' };
  const ratio = figure / ceiling;
  return { goal, figure: String(Math.round(figure)), against, ratio: round(ratio, 2), result: ratio >= need ? 'pass' : 'fail' };
}

/** figure / limit must stay at or under 1 (under 1 when `strict`), and `also` must hold. */
function limit(goal: string, figure: number | undefined, text: string | undefined, max: number, unit: string, strict = false, also = true): Goal {
  const against = `${max} ${unit}`;
  if (figure === undefined || !Number.isFinite(figure)) return { goal, figure: null, against, ratio: null, result: 'not measured' };
  const ratio = figure / max;
  return { goal, figure: text ?? `${round(figure, 1)} ${unit}`, against, ratio: round(ratio, 2), result: (strict ? ratio < 1 : ratio <= 1) && also ? 'pass' : 'fail' };
}

export function goals(g: GoalInputs): Goal[] {
  const group = (mode: 'push' | 'pull') => {
    const r = g.groups500?.[mode];
    return limit(`groups of 500 at 20 sends/s, ${mode}: p99 <= 100 ms, everything delivered`, r?.p99Ms, r && `${round(r.p99Ms, 1)} ms, ${r.deliveries}/${r.expected} delivered`, 100, 'ms', false, r ? r.deliveries >= r.expected : false);
  };
  return [
    share('1:1 sustained sends/s >= 40% of raw JetStream publish', g.chatSendsPerS, 'JetStream publish', g.jetstreamPublishPerS, 0.4),
    share('1:1 deliveries/s >= 50% of the raw Socket.IO relay', g.chatDeliveriesPerS, 'relay', g.relayDeliveriesPerS, 0.5),
    share('1:1 deliveries/s >= 2x the naive baseline', g.chatDeliveriesPerS, 'naive', g.naiveDeliveriesPerS, 2),
    limit('p99 send-to-deliver <= 50 ms at half the highest sustained rate', g.chatHalfP99Ms, undefined, 50, 'ms'),
    limit('reconnect storm caught up in < 10 s, nothing missing', g.storm?.seconds, g.storm && `${round(g.storm.seconds, 1)} s, ${g.storm.missing} missing`, 10, 's', true, g.storm ? g.storm.missing === 0 : false),
    share('replay events/s >= 50% of raw JetStream consume', g.replayPerS, 'JetStream consume', g.jetstreamConsumePerS, 0.5),
    group('push'),
    group('pull'),
    limit('resident memory per idle connection <= 20 KiB', g.kbPerConnection, undefined, 20, 'KiB'),
    limit('quiet pairs beside a heavy sender: p99 <= 2x their p99 alone, everything delivered', g.heavy?.p99Ratio,
      g.heavy && `${round(g.heavy.beside, 1)} ms against ${round(g.heavy.alone, 1)} ms alone`, 2, 'x alone', false, g.heavy?.complete ?? false),
  ];
}

export function goalsTable(rows: Goal[]): string {
  return table(['goal', 'figure', 'compared with', 'ratio', 'result'], rows.map((r) => [r.goal, r.figure, r.against, r.ratio, r.result]));
}
