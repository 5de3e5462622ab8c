import { readdirSync, readFileSync } from 'node:fs';

export interface GroupMember {
  pid: number;
  argv: string[];
}

/** The processes of a process group that still run (a zombie runs nothing), from /proc. */
export function processGroup(pgid: number): GroupMember[] {
  const members: GroupMember[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || Number(pgrp) !== pgid) continue;
      members.push({ pid: Number(entry), argv: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

export interface AllInOneProcesses {
  supervisor: number;
  front: number;
  worker: number;
}

/** The all-in-one's node processes in the group `npm start` runs in; throws unless there is exactly one of each. */
export function allInOneProcesses(pgid: number): AllInOneProcesses {
  const group = processGroup(pgid);
  const find = (entry: string) => {
    const found = group.filter((p) => /(^|\/)node$/.test(p.argv[0] ?? '') && p.argv.some((a) => a.endsWith(`dist/apps/all-in-one/src/${entry}`)));
    if (found.length !== 1) throw new Error(`expected one node process running ${entry} in group ${pgid}, found ${found.length}: ${JSON.stringify(group)}`);
    return found[0]!.pid;
  };
  return { supervisor: find('main.js'), front: find('front.main.js'), worker: find('worker.main.js') };
}

/** Whether `pid` still runs, in whatever group (a zombie does not). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
