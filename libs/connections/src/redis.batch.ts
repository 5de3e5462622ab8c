import type { Cluster, Redis } from 'ioredis';

/** A command by name (built-in or defined with `defineCommand`) and its arguments. */
export type Command = [name: string, ...args: Array<string | number>];

/**
 * Sends commands back to back and returns each one's reply, or the Error it failed with.
 * On one Redis they go as one pipeline: one write, one read, whatever their number. A
 * Redis Cluster pipeline must stay within one slot, and these touch many (one user each),
 * so there each goes as its own command; the cluster client's auto-pipelining still
 * writes those bound for one node together.
 */
export async function sendAll(redis: Redis | Cluster, commands: Command[]): Promise<unknown[]> {
  if (commands.length === 0) return [];
  if (redis.isCluster) {
    const client = redis as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>;
    return Promise.all(commands.map(([name, ...args]) => client[name]!(...args).catch((err: unknown) => asError(err))));
  }
  try {
    const replies = await (redis as Redis).pipeline(commands).exec();
    return commands.map((_, i) => {
      const reply = replies?.[i];
      if (!reply) return new Error('no reply from redis');
      return reply[0] ?? reply[1];
    });
  } catch (err) {
    return commands.map(() => asError(err));
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** `items` in arrays of at most `size`, read lazily: the next slice is taken only when asked for. */
export function* slices<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let slice: T[] = [];
  for (const item of items) {
    slice.push(item);
    if (slice.length === size) {
      yield slice;
      slice = [];
    }
  }
  if (slice.length > 0) yield slice;
}
