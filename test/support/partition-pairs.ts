import { directConversationId } from '@chat/commands';
import { loadConfig } from '@chat/config';
import { Names } from '@chat/messaging';
import { directKey } from '@chat/storage';
import { TEST_JWT_SECRET } from './namespace';

/** One direct pair per partition, found from the ids the gateway derives (with the test's key): deterministic. */
export function pairsCoveringPartitions(prefix: string, partitions: number): Array<[string, string]> {
  const names = new Names('any', partitions);
  const idSecret = loadConfig({ CHAT_JWT_SECRET: TEST_JWT_SECRET }).CHAT_ID_SECRET;
  const pairs = new Map<number, [string, string]>();
  for (let i = 0; pairs.size < partitions; i++) {
    const pair: [string, string] = [`${prefix}a${i}`, `${prefix}b${i}`];
    const p = names.partitionFor(directConversationId(directKey(pair), idSecret));
    if (!pairs.has(p)) pairs.set(p, pair);
  }
  return [...pairs.values()];
}
