/** What `npm run webhooks:replay` was asked for. */
export interface ReplayArgs {
  from: { seq: number } | { time: Date };
  /** Undefined: every partition. */
  partitions?: number[];
  /** Follow the deliveries until they have caught up (default), or stop once the consumers are moved. */
  follow: boolean;
}

export const REPLAY_USAGE = `usage: npm run webhooks:replay -- --from <seq|ISO time> [--partitions 0,2-3] [--no-follow]
  --from <seq>        every event from this stream sequence on (in each partition named), delivered again
  --from <ISO time>   every event appended at or after this time, e.g. 2025-01-31T12:00:00Z
  --partitions        only these partitions (default: all); a seq is a position in one partition's log
  --no-follow         move the consumers and exit, without following the deliveries`;

/** An ISO 8601 date and time with a zone (`Z` or `+01:00`); seconds and fractions optional. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses the command line; a string is the reason it is refused. */
export function parseReplayArgs(argv: string[], partitionCount: number): ReplayArgs | string {
  let from: ReplayArgs['from'] | undefined;
  let partitions: number[] | undefined;
  let follow = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (name) {
      case '--from': {
        const v = value();
        if (v === undefined) return '--from needs a seq or an ISO time';
        if (/^\d+$/.test(v)) {
          const seq = Number(v);
          if (!Number.isSafeInteger(seq) || seq < 1) return `--from ${v}: a seq is at least 1`;
          from = { seq };
        } else if (isIsoTime(v)) {
          from = { time: new Date(v) };
        } else return `--from ${JSON.stringify(v)}: not a seq nor an ISO time with a zone (2025-01-31T12:00:00Z)`;
        break;
      }
      case '--partitions': {
        const v = value();
        const parsed = v === undefined ? undefined : partitionList(v, partitionCount);
        if (typeof parsed !== 'object') return parsed ?? '--partitions needs a list, such as 0,2-3';
        partitions = parsed;
        break;
      }
      case '--no-follow':
        follow = false;
        break;
      default:
        return `unknown argument ${JSON.stringify(arg)}`;
    }
  }
  if (!from) return '--from is required';
  return { from, follow, ...(partitions && { partitions }) };
}

/** The form of ISO_TIME, and a real date and time (JavaScript reads 30 February as 2 March). */
function isIsoTime(text: string): boolean {
  if (!ISO_TIME.test(text)) return false;
  const [y, mo, d, h, mi, sec] = text.split(/[-T:.Z+]/).map(Number) as [number, number, number, number, number, number?];
  const day = new Date(Date.UTC(y, mo - 1, d));
  const realDay = day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
  return realDay && h < 24 && mi < 60 && (sec === undefined || Number.isNaN(sec) || sec < 60) && !Number.isNaN(Date.parse(text));
}

function partitionList(text: string, count: number): number[] | string {
  const owned = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    const from = Number(range?.[1]);
    const to = Number(range?.[2] ?? range?.[1]);
    if (!range || to < from) return `--partitions ${JSON.stringify(text)}: expected partitions such as 0,2-3`;
    if (to >= count) return `--partitions: partition ${to} does not exist (CHAT_PARTITIONS is ${count})`;
    for (let p = from; p <= to; p++) owned.add(p);
  }
  if (owned.size === 0) return '--partitions: expected at least one partition';
  return [...owned].sort((a, b) => a - b);
}
