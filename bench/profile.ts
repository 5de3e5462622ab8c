import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  where: string;
  percent: number;
}

/**
 * Where a process spent its CPU time, from the `.cpuprofile` files `node --cpu-prof`
 * wrote in `dir`: self time summed by package (node_modules/<name>), by our own code
 * (apps/..., libs/...), Node internals, garbage collection and idle.
 */
export function summarizeProfiles(dir: string, top = 14): { byPlace: ProfileShare[]; byFunction: ProfileShare[]; busyPercent: number } {
  const place = new Map<string, number>();
  const fn = new Map<string, number>();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      const frame = byId.get(id)!.callFrame;
      total += dt;
      const where = classify(frame.url, frame.functionName);
      place.set(where, (place.get(where) ?? 0) + dt);
      const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
      fn.set(name, (fn.get(name) ?? 0) + dt);
    });
  }
  const shares = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([where, t]) => ({ where, percent: (100 * t) / Math.max(1, total) }));
  const idle = place.get('(idle)') ?? 0;
  return { byPlace: shares(place), byFunction: shares(new Map([...fn].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(program)') && !k.startsWith('(garbage')))), busyPercent: (100 * (total - idle)) / Math.max(1, total) };
}

function classify(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const own = /dist\/((?:apps|libs)\/[^/]+)/.exec(url);
  return own ? own[1]! : url;
}

function shortUrl(url: string): string {
  return url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, '').replace(/^file:\/\//, '');
}
