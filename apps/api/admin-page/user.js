// Look up a user: presence, live connections, conversations and the notifier's push
// decisions, each list paged by the admin API's cursor.
import { admin, seg } from './api.js';
import { count, errorBox, h, pagedTable, plural, when } from './dom.js';

const PAGE = 20;

const form = () => document.getElementById('user-form');
const input = () => document.getElementById('user-id');
const result = () => document.getElementById('user-result');

/** Only the answer to the latest lookup is shown. */
let lookup = 0;
/** Opens a conversation in its own tab (given by app.js). */
let open = () => undefined;

export function initUser({ openConversation }) {
  open = openConversation;
  form().addEventListener('submit', (e) => {
    e.preventDefault();
    lookUpUser(input().value.trim());
  });
}

function linkTo(id) {
  return h('button', { type: 'button', class: 'link id', title: 'Open conversation ' + id, onclick: () => open(id) }, id);
}

function presenceLine(p) {
  if (p.status === 'online') return h('p', { class: 'presence' }, h('span', { class: 'dot online' }), 'online');
  return h('p', { class: 'presence' }, h('span', { class: 'dot' }), 'offline', p.lastSeenAt ? [', last seen ', when(p.lastSeenAt)] : ', never seen online');
}

function lastMessage(c) {
  const m = c.lastMessage;
  if (!m) return '–';
  const body = m.deleted ? '(deleted)' : m.body.length > 60 ? m.body.slice(0, 59) + '…' : m.body;
  return h('span', { class: 'preview' }, h('b', {}, m.senderId), ': ', body);
}

function decisionSeqs(d) {
  return d.toSeq !== undefined && d.toSeq !== d.seq ? d.seq + '–' + d.toSeq : String(d.seq);
}

export async function lookUpUser(userId) {
  input().value = userId;
  const out = result();
  const mine = ++lookup;
  if (!userId) {
    out.replaceChildren(errorBox(new Error('Type a user id to look up.')));
    return;
  }
  out.replaceChildren(h('p', { class: 'loading' }, 'Looking up ' + userId + '…'));
  const base = '/v1/admin/users/' + seg(userId);
  // Presence first: a user id the server refuses is refused once, in words, for the whole lookup.
  let presence;
  try {
    presence = await admin(base + '/presence');
  } catch (err) {
    if (mine === lookup) out.replaceChildren(errorBox(err));
    return;
  }
  const lists = await Promise.all([
    pagedTable({
      noun: plural('connection', 'connections'),
      empty: 'No live connections.',
      tableAttrs: { id: 'user-connections' },
      load: async (cursor) => {
        const r = await admin(base + '/connections', { query: { limit: PAGE, cursor } });
        return { rows: r.connections, next: r.next };
      },
      columns: [
        { label: 'Connection', cell: (c) => h('code', {}, c.connectionId) },
        { label: 'Gateway node', cell: (c) => c.node },
        { label: 'Epoch', cell: (c) => count(c.epoch), num: true },
        { label: 'Lease expires', cell: (c) => when(c.expiresAt) },
      ],
    }),
    pagedTable({
      noun: plural('conversation', 'conversations'),
      empty: 'No conversations.',
      tableAttrs: { id: 'user-conversations' },
      load: async (cursor) => {
        const r = await admin(base + '/conversations', { query: { limit: PAGE, cursor } });
        return { rows: r.conversations, next: r.next };
      },
      columns: [
        { label: 'Conversation', cell: (c) => linkTo(c.id) },
        { label: 'Type', cell: (c) => c.type },
        { label: 'Title', cell: (c) => c.title || '–' },
        { label: 'Members', cell: (c) => count(c.memberCount), num: true },
        { label: 'Last seq', cell: (c) => count(c.lastSeq), num: true },
        { label: 'Unread', cell: (c) => count(c.unread), num: true },
        { label: 'Last message', cell: lastMessage },
        { label: 'Last activity', cell: (c) => when(c.lastActivityAt) },
      ],
    }),
    pagedTable({
      noun: plural('decision', 'decisions'),
      empty: 'No push decisions recorded.',
      tableAttrs: { id: 'user-decisions' },
      load: async (cursor) => {
        const r = await admin(base + '/push-decisions', { query: { limit: PAGE, cursor } });
        return { rows: r.decisions, next: r.next };
      },
      columns: [
        { label: 'Recorded', cell: (d) => when(d.at) },
        { label: 'Conversation', cell: (d) => linkTo(d.conversationId) },
        { label: 'Seq', cell: decisionSeqs, num: true },
        { label: 'Messages', cell: (d) => count(d.messages ?? 1), num: true },
        { label: 'Decision', cell: (d) => h('span', { class: 'decision ' + d.decision }, d.decision) },
        { label: 'Detail', cell: (d) => d.detail || '–' },
      ],
    }),
  ]);
  if (mine !== lookup) return;
  const [connections, conversations, decisions] = lists;
  out.replaceChildren(
    h('h2', {}, 'User ', h('span', { id: 'user-name' }, userId)),
    h('section', { id: 'user-presence', class: 'part' }, h('h3', {}, 'Presence'), presenceLine(presence)),
    h('section', { id: 'user-connections-part', class: 'part' }, h('h3', {}, 'Connections'), connections),
    h('section', { id: 'user-conversations-part', class: 'part' }, h('h3', {}, 'Conversations'), conversations),
    h('section', { id: 'user-decisions-part', class: 'part' }, h('h3', {}, 'Push decisions'), h('p', { class: 'hint' }, 'Newest recorded first: why the notifier woke the user or not, for each message they received.'), decisions),
  );
}
