// Storage per tier (hot in Postgres, warm blocks, cold objects in S3) and the damaged blocks.
import { admin } from './api.js';
import { bytes, clockNow, count, errorBox, h, table, when } from './dom.js';

const result = () => document.getElementById('storage-result');

export function initStorage() {
  document.getElementById('storage-refresh').addEventListener('click', () => showStorage());
}

export async function showStorage() {
  let stats;
  try {
    stats = await admin('/v1/admin/storage');
  } catch (err) {
    result().replaceChildren(errorBox(err));
    return;
  }
  document.getElementById('storage-updated').textContent = clockNow();
  const total = stats.tiers.reduce((sum, t) => ({ messages: sum.messages + t.messages, bytes: sum.bytes + t.bytes }), { messages: 0, bytes: 0 });
  const tiers = table([
    { label: 'Tier', cell: (t) => h('b', {}, t.tier) },
    { label: 'Messages', cell: (t) => count(t.messages), num: true },
    { label: 'Stored', cell: (t) => bytes(t.bytes), num: true },
    { label: 'Blocks', cell: (t) => (t.blocks === undefined ? '–' : count(t.blocks)), num: true },
    { label: 'Before compression', cell: (t) => (t.rawBytes === undefined ? '–' : bytes(t.rawBytes)), num: true },
    { label: 'Oldest', cell: (t) => when(t.oldest) },
    { label: 'Newest', cell: (t) => when(t.newest) },
  ], stats.tiers, { id: 'storage-tiers' });
  const damaged = stats.damaged.length === 0
    ? h('p', { class: 'ok', id: 'storage-damaged' }, 'No damaged blocks found.')
    : table([
      { label: 'Tier', cell: (d) => d.tier },
      { label: 'Conversation', cell: (d) => h('code', {}, d.conversationId) },
      { label: 'First seq', cell: (d) => count(d.firstSeq), num: true },
      { label: 'Reason', cell: (d) => d.reason },
      { label: 'Detected', cell: (d) => when(d.detectedAt) },
    ], stats.damaged, { id: 'storage-damaged' });
  result().replaceChildren(
    h('section', { class: 'part' },
      h('h3', {}, 'Storage per tier'),
      h('p', { class: 'count', id: 'storage-total' }, count(total.messages) + ' messages in all, ' + bytes(total.bytes) + ' stored.'),
      tiers),
    h('section', { class: 'part' }, h('h3', {}, 'Damaged blocks'), damaged),
  );
}
