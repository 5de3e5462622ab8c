import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export const SIBLINGS = Symbol('SIBLINGS');

/** One sibling's readiness: its own dependency checks by name, or `down: why` when it did not answer. */
export type SiblingReadiness = Record<string, string> | string;

/**
 * Other processes that one HTTP port answers for: the all-in-one's worker, which serves no
 * HTTP, is reported by the front process's /healthz, /readyz and /metrics. Every method
 * resolves (a sibling that does not answer is `down: why`, or has no metrics).
 */
export interface SiblingProcesses {
  /** By sibling name: `up` when its event loop answers, else `down: why`. */
  alive(): Promise<Record<string, string>>;
  readiness(): Promise<Record<string, SiblingReadiness>>;
  /** Each answering sibling's registry, as prom-client's getMetricsAsJSON gives it. */
  metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[][]>;
}
