// Look up a conversation: its record, members (paged by user id) and its messages, the
// latest page first and older pages before it on request. Both come from the messages
// route's `beforeSeq` alone, which answers the latest `limit` messages before that seq,
// ascending: the first page is the one before the record's `lastSeq + 1`, so it shows the
// conversation as of the record shown beside it.
import { admin, seg } from './api.js';
import { count, errorBox, h, pagedTable, plural, showError, clearError, when } from './dom.js';

const MEMBER_PAGE = 50;
export const MESSAGE_PAGE = 20;

const form = () => document.getElementById('conversation-form');
const input = () => document.getElementById('conversation-id');
const result = () => document.getElementById('conversation-result');

let lookup = 0;
/** Opens a user in its own tab (given by app.js). */
let open = () => undefined;

export function initConversation({ openUser }) {
  open = openUser;
  form().addEventListener('submit', (e) => {
    e.preventDefault();
    lookUpConversation(input().value.trim());
  });
}

function details(c) {
  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
  return h('dl', { class: 'details', id: 'conversation-details' },
    row('Id', h('code', {}, c.id)),
    row('Type', c.type),
    row('Title', c.title || '–'),
    row('Partition', String(c.partition)),
    row('Created by', c.createdBy),
    row('Created', when(c.createdAt)),
    row('Messages', count(c.messageCount)),
    row('Members', count(c.memberCount)),
    row('Last seq', count(c.lastSeq)),
    row('Last activity', when(c.lastActivityAt)),
  );
}

export function messageItem(m) {
  const tags = [];
  if (m.replyToSeq !== undefined) tags.push(h('span', { class: 'tag' }, 'reply to #' + m.replyToSeq));
  if (m.editedAt) tags.push(h('span', { class: 'tag', title: 'edited ' + m.editedAt }, 'edited'));
  if (m.deleted) tags.push(h('span', { class: 'tag' }, 'deleted'));
  const reactions = Object.entries(m.reactions || {}).map(([emoji, users]) => h('span', { class: 'reaction', title: users.join(', ') }, emoji + ' ' + users.length));
  return h('li', { dataset: { seq: String(m.seq) } },
    h('div', { class: 'msg-head' }, h('span', { class: 'seq' }, '#' + m.seq), h('b', { class: 'sender' }, m.senderId), when(m.sentAt), tags),
    h('div', { class: m.deleted ? 'body deleted' : 'body' }, m.deleted ? 'This message was deleted.' : m.body),
    reactions.length ? h('div', { class: 'reactions' }, reactions) : null,
  );
}

/** The messages part: what is loaded, kept by seq, and the button that loads the page before it. */
function messagesPart(conversation) {
  const bySeq = new Map();
  const list = h('ol', { class: 'messages', id: 'messages' });
  const summary = h('p', { class: 'count', id: 'messages-count' });
  const start = h('p', { class: 'hint', id: 'messages-start', hidden: true }, 'Start of the conversation: nothing older.');
  const older = h('button', { type: 'button', id: 'older', hidden: true }, 'Older messages');
  const slot = h('div', { class: 'error-slot', hidden: true });
  const base = '/v1/admin/conversations/' + seg(conversation.id) + '/messages';

  const render = (reachedStart) => {
    const messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    list.replaceChildren(...messages.map(messageItem));
    const total = conversation.messageCount;
    const done = reachedStart || messages.length >= total;
    summary.textContent = messages.length === 0
      ? 'No messages.'
      : 'Showing ' + messages.length + ' of ' + count(total) + ' ' + plural('message', 'messages')(total) + ', seq ' + messages[0].seq + ' to ' + messages[messages.length - 1].seq + '.';
    older.hidden = done || messages.length === 0;
    start.hidden = !done || messages.length === 0;
  };

  const load = async (query) => {
    older.disabled = true;
    try {
      const page = await admin(base, { query: { limit: MESSAGE_PAGE, ...query } });
      for (const m of page.messages) bySeq.set(m.seq, m);
      clearError(slot);
      // A short page means the server has nothing further back.
      render(page.messages.length < MESSAGE_PAGE);
    } catch (err) {
      showError(slot, err);
    } finally {
      older.disabled = false;
    }
  };
  older.addEventListener('click', () => {
    const oldest = Math.min(...bySeq.keys());
    load({ beforeSeq: oldest });
  });

  return { element: h('div', {}, summary, older, start, slot, list), first: () => load({ beforeSeq: conversation.lastSeq + 1 }) };
}

export async function lookUpConversation(id) {
  input().value = id;
  const out = result();
  const mine = ++lookup;
  if (!id) {
    out.replaceChildren(errorBox(new Error('Type a conversation id to look up.')));
    return;
  }
  out.replaceChildren(h('p', { class: 'loading' }, 'Looking up ' + id + '…'));
  let answer;
  try {
    answer = await admin('/v1/admin/conversations/' + seg(id), { query: { limit: MEMBER_PAGE } });
  } catch (err) {
    if (mine !== lookup) return;
    out.replaceChildren(errorBox(err.status === 404 ? new Error('No conversation with the id ' + id + '.') : err));
    return;
  }
  const c = answer.conversation;
  let first = answer;
  const members = await pagedTable({
    noun: plural('member', 'members'),
    empty: 'No members.',
    tableAttrs: { id: 'conversation-members' },
    load: async (cursor) => {
      // The first page came with the conversation.
      const r = first || (await admin('/v1/admin/conversations/' + seg(id), { query: { limit: MEMBER_PAGE, cursor } }));
      first = null;
      return { rows: r.members, next: r.next };
    },
    columns: [
      { label: 'User', cell: (m) => h('button', { type: 'button', class: 'link id', title: 'Look up user ' + m.userId, onclick: () => open(m.userId) }, m.userId) },
      { label: 'Joined at seq', cell: (m) => count(m.joinedSeq), num: true },
      { label: 'Last read seq', cell: (m) => count(m.lastReadSeq), num: true },
      { label: 'Unread', cell: (m) => count(m.unread), num: true },
    ],
  });
  const messages = messagesPart(c);
  await messages.first();
  if (mine !== lookup) return;
  out.replaceChildren(
    h('h2', {}, c.title ? c.title : c.type === 'direct' ? 'Direct conversation' : 'Group'),
    h('section', { class: 'part' }, h('h3', {}, 'Conversation'), details(c)),
    h('section', { class: 'part', id: 'conversation-members-part' }, h('h3', {}, 'Members'), members),
    h('section', { class: 'part', id: 'conversation-messages-part' }, h('h3', {}, 'Messages'), messages.element),
  );
}
