/** The all-in-one's two processes, by the name the supervisor gives them. */
export type ChildName = 'front' | 'worker';
export const CHILD_NAMES: readonly ChildName[] = ['front', 'worker'];

/** What the front asks the worker, through the supervisor. */
export type Question = 'alive' | 'readiness' | 'metrics';

/** A child asks another; the supervisor fills in `from` and passes it on, or answers `error` itself. */
export interface Ask {
  kind: 'ask';
  id: number;
  to: ChildName;
  from?: ChildName;
  question: Question;
}

export interface Answer {
  kind: 'answer';
  id: number;
  to: ChildName;
  /** The question could not be answered: `not running`, `starting`, ... */
  error?: string;
  /** `readiness`: the worker's own dependency checks. */
  checks?: Record<string, string>;
  /** `metrics`: the worker's registry as getMetricsAsJSON gives it. */
  metrics?: unknown[];
}

/** A child has finished starting (bootstrap returned). */
export interface Started {
  kind: 'started';
}

export type ChildMessage = Ask | Answer | Started;

const isName = (v: unknown): v is ChildName => CHILD_NAMES.includes(v as ChildName);

/** IPC carries whatever a process sends: anything not shaped like a message is ignored. */
export function asChildMessage(raw: unknown): ChildMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (m.kind === 'started') return { kind: 'started' };
  if (typeof m.id !== 'number' || !isName(m.to)) return undefined;
  if (m.kind === 'ask' && (m.question === 'alive' || m.question === 'readiness' || m.question === 'metrics')) {
    return { kind: 'ask', id: m.id, to: m.to, question: m.question, ...(isName(m.from) && { from: m.from }) };
  }
  if (m.kind === 'answer') return m as unknown as Answer;
  return undefined;
}
