import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { SiblingProcesses, SiblingReadiness } from '@chat/platform';
import type { SupervisorLink } from './supervisor.link';

const ALIVE_WITHIN_MS = 1_000;
/** The worker's own checks give up after 1 s each; this leaves room for the two IPC hops. */
const READY_WITHIN_MS = 1_500;
const METRICS_WITHIN_MS = 2_000;

const reason = (err: unknown) => `down: ${(err as Error).message}`;

/** The front's view of the worker, asked through the supervisor: what its /healthz, /readyz and /metrics add. */
export class WorkerSibling implements SiblingProcesses {
  constructor(private readonly link: SupervisorLink) {}

  async alive(): Promise<Record<string, string>> {
    try {
      await this.link.ask('worker', 'alive', ALIVE_WITHIN_MS);
      return { worker: 'up' };
    } catch (err) {
      return { worker: reason(err) };
    }
  }

  async readiness(): Promise<Record<string, SiblingReadiness>> {
    try {
      const answer = await this.link.ask('worker', 'readiness', READY_WITHIN_MS);
      return { worker: answer.checks ?? 'down: no checks in the answer' };
    } catch (err) {
      return { worker: reason(err) };
    }
  }

  /** Nothing from a worker that does not answer: the front's own figures are still served. */
  async metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[][]> {
    try {
      const answer = await this.link.ask('worker', 'metrics', METRICS_WITHIN_MS);
      return answer.metrics ? [answer.metrics as MetricObjectWithValues<MetricValue<string>>[]] : [];
    } catch {
      return [];
    }
  }
}
