import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import type { TestNamespace } from './namespace';

/** Everything a namespace has written: messages in its streams and rows in its tables. */
export async function footprint(ns: TestNamespace): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const nc = await connect({ servers: ns.env.CHAT_NATS_URL });
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
    for (const table of ['conversations', 'members', 'timeline', 'inbox', 'client_msg_ids', 'rejected_events']) {
      counts[table] = Number((await pg.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    }
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
