import { writeSync } from 'node:fs';

/**
 * Test hook (CHAT_TEST_NOTIFIER_CRASH_AFTER_SENDS): the process kills itself after that many
 * wake-ups went out, before their decisions are recorded and their messages acked. Without
 * the setting it does nothing.
 */
export function crashAfterSends(at: number | undefined): () => void {
  if (at === undefined) return () => undefined;
  let sends = 0;
  return () => {
    if (++sends < at) return;
    writeSync(2, `test hook: notifier crashing after ${sends} sends\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
