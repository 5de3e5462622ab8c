import { spawn } from 'node:child_process';
import { ROOT } from './app-process';
import { readModelChecksums } from './inspect';
import type { TestNamespace } from './namespace';

/** `npm run replay -- timeline` (or `search`) as an operator runs it; resolves with its output. */
export function replayCli(ns: TestNamespace, projection = 'timeline'): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'replay', '--', projection], { cwd: ROOT, env: { ...process.env, ...ns.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** A rebuild of the timeline from the log gives the read models the live projector left (no projector may run meanwhile). */
export async function expectRebuildToMatch(ns: TestNamespace): Promise<void> {
  const live = await readModelChecksums(ns);
  const { code, output } = await replayCli(ns);
  if (code !== 0) throw new Error(`npm run replay exited with ${code}:\n${output.slice(-3000)}`);
  expect(await readModelChecksums(ns)).toEqual(live);
}
