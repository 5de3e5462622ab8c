import { jetstream, jetstreamManager, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import { Names } from '@chat/messaging';
import { natsServers, type TestNamespace } from './namespace';

/** Everything a namespace has written: messages in its streams and rows in its tables. */
export async function footprint(ns: TestNamespace): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const nc = await connect({ servers: natsServers(ns.env.CHAT_NATS_URL!) });
  try {
    const jsm = await jetstreamManager(nc);
    for (let p = 0; p < Number(ns.env.CHAT_PARTITIONS); p++) {
      counts[`stream P${p}`] = (await jsm.streams.info(`${ns.name}_P${p}`)).state.messages;
    }
  } finally {
    await nc.close();
  }
  const pg = new Client({ connectionString: ns.databaseUrl, options: '-c search_path=timeline,public' });
  await pg.connect();
  try {
    for (const table of ['conversations', 'members', 'timeline', 'inbox', 'client_msg_ids', 'rejected_events', 'mentions', 'reports', 'attachments', 'attachment_deletions']) {
      counts[table] = Number((await pg.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    }
    // The search index: a refusal indexes nothing either.
    counts['search.messages'] = Number((await pg.query('SELECT count(*) AS n FROM search.messages')).rows[0].n);
  } finally {
    await pg.end();
  }
  return counts;
}

export async function query<T extends Record<string, unknown>>(ns: TestNamespace, sql: string, params: unknown[] = []): Promise<T[]> {
  const pg = new Client({ connectionString: ns.databaseUrl, options: '-c search_path=timeline,public' });
  await pg.connect();
  try {
    return (await pg.query<T>(sql, params)).rows;
  } finally {
    await pg.end();
  }
}

/**
 * An ordered checksum of every read-model table of the timeline projection, leaving out
 * what is operational rather than derived from the log (times of commits, pruning state).
 */
export async function readModelChecksums(ns: TestNamespace): Promise<Record<string, string>> {
  const tables: Record<string, string> = {
    conversations: 'SELECT * FROM conversations ORDER BY id',
    members: 'SELECT * FROM members ORDER BY conversation_id, user_id',
    membership_periods: 'SELECT * FROM membership_periods ORDER BY conversation_id, user_id, joined_seq',
    timeline: 'SELECT * FROM timeline ORDER BY conversation_id, seq',
    client_msg_ids: 'SELECT * FROM client_msg_ids ORDER BY sender_id, client_msg_id',
    inbox: 'SELECT * FROM inbox ORDER BY user_id, partition, seq',
    checkpoints: 'SELECT projection, partition, last_seq FROM checkpoints ORDER BY projection, partition',
    rejected_events: 'SELECT * FROM rejected_events ORDER BY partition, seq',
    mentions: 'SELECT * FROM mentions ORDER BY conversation_id, user_id, seq',
    reports: 'SELECT * FROM reports ORDER BY conversation_id, seq',
  };
  const sums: Record<string, string> = {};
  for (const [table, sql] of Object.entries(tables)) {
    const [row] = await query<{ n: string; sum: string | null }>(ns, `SELECT count(*) AS n, md5(string_agg(r::text, E'\\n')) AS sum FROM (${sql}) r`);
    sums[table] = `${row!.n} rows ${row!.sum ?? '-'}`;
  }
  return sums;
}

/** Waits until the projection has committed everything in the log (lag 0 on every partition). */
export async function caughtUp(ns: TestNamespace): Promise<void> {
  const nc = await connect({ servers: natsServers(ns.env.CHAT_NATS_URL!) });
  try {
    const jsm = await jetstreamManager(nc);
    const { waitFor } = await import('./wait');
    // The timeline, and the search index that follows it.
    await waitFor('the projections to catch up with the log', async () => {
      const rows = await query<{ projection: string; partition: number; last_seq: string }>(
        ns, `SELECT projection, partition, last_seq FROM timeline.checkpoints WHERE projection = 'timeline'
             UNION ALL SELECT projection, partition, last_seq FROM search.checkpoints WHERE projection = 'search'`,
      ).catch(() => []);
      for (let p = 0; p < Number(ns.env.CHAT_PARTITIONS); p++) {
        const last = (await jsm.streams.info(`${ns.name}_P${p}`)).state.last_seq;
        for (const projection of ['timeline', 'search']) {
          if (Number(rows.find((r) => r.projection === projection && r.partition === p)?.last_seq ?? -1) !== last) return false;
        }
      }
      return true;
    }, 60_000, 50);
  } finally {
    await nc.close();
  }
}

/** Appends a raw entry to a conversation's subject, as a buggy or hostile publisher could. */
export async function appendRaw(ns: TestNamespace, conversationId: string, payload: unknown): Promise<number> {
  const [row] = await query<{ partition: number }>(ns, 'SELECT partition FROM conversations WHERE id = $1', [conversationId]);
  const nc = await connect({ servers: natsServers(ns.env.CHAT_NATS_URL!) });
  try {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return (await jetstream(nc).publish(`${ns.name}.p${row!.partition}.conv.${conversationId}`, body)).seq;
  } finally {
    await nc.close();
  }
}

/** The projector processes' consumers of one partition of a projection (each process has its own). */
export async function projectorConsumers(jsm: JetStreamManager, ns: TestNamespace, projection: 'timeline' | 'search', p: number): Promise<ConsumerInfo[]> {
  const names = new Names(ns.name, Number(ns.env.CHAT_PARTITIONS));
  // Names.processConsumer with any instance: `<consumer>_<instance>`.
  const prefix = `${names.consumer(projection, p)}_`;
  const found: ConsumerInfo[] = [];
  for await (const info of jsm.consumers.list(names.stream(p))) if (info.name.startsWith(prefix)) found.push(info);
  return found;
}
