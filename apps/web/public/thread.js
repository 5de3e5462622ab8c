// The open conversation: messages with day separators, times, ticks, replies, reactions,
// inline edits, thread summaries and per-message actions. The thread panel
// (thread-panel.js) draws its messages with the same bubbles.
import { $, h } from './dom.js';
import { picker } from './emoji.js';
import { dayKey, dayOf, errorText, people, sizeOf, snippet, timeOf } from './format.js';
import { filesOf } from './files.js';
import { bodyWithMentions } from './mention.js';
import { mentionsMe, messagesOf, othersIn, readersOf, SMALL_GROUP, state, timelineOf } from './store.js';

/**
 * What the person is doing in the open conversation; starts over when another one opens.
 * `thread`: the root seq of the thread open beside it.
 */
export const ui = { selected: null, editing: null, picker: null, confirmDelete: null, errors: new Map(), replyTo: null, thread: null };

let chat;
let onChange = () => {};
let loadOlder = () => {};
let openThread = () => {};

export function initThread(client, changed, older, thread) {
  chat = client;
  onChange = changed;
  loadOlder = older;
  openThread = thread;
}

export function resetUi() {
  Object.assign(ui, { selected: null, editing: null, picker: null, confirmDelete: null, replyTo: null, thread: null });
  ui.errors.clear();
}

/** Runs a command for a message; its error shows under that message. */
function act(seq, run) {
  ui.errors.delete(seq);
  Promise.resolve()
    .then(run)
    .catch((err) => ui.errors.set(seq, errorText(err)))
    .finally(onChange);
}

export function startEdit(m) {
  Object.assign(ui, { editing: { seq: m.seq, draft: m.body, focus: true }, selected: m.seq, picker: null, confirmDelete: null });
  onChange();
}

function saveEdit(m) {
  const body = ui.editing.draft.trim();
  if (!body || body === m.body) {
    ui.editing = null;
    return onChange();
  }
  act(m.seq, async () => {
    await chat.edit(m.conversationId, m.seq, body);
    ui.editing = null;
  });
}

export function toggleReaction(m, emoji) {
  const mine = (m.reactions?.[emoji] ?? []).includes(state.me);
  ui.picker = null;
  act(m.seq, () => (mine ? chat.unreact(m.conversationId, m.seq, emoji) : chat.react(m.conversationId, m.seq, emoji)));
}

export const nameOf = (userId) => (userId === state.me ? 'You' : userId);

function quote(m) {
  const target = messagesOf(m.conversationId).get(m.replyToSeq);
  const text = !target ? 'an earlier message' : target.deleted ? 'a deleted message' : snippet(target.body, 60);
  return h('div', {
    class: 'quote',
    title: 'Show the message replied to',
    onclick: (e) => {
      e.stopPropagation();
      document.querySelector(`#messages [data-seq="${m.replyToSeq}"]`)?.scrollIntoView({ block: 'center' });
    },
  }, `↩ ${target ? nameOf(target.senderId) : ''}${target ? ': ' : ''}${text}`);
}

function reactionChips(m) {
  const entries = Object.entries(m.reactions ?? {});
  if (entries.length === 0) return null;
  return h('div', { class: 'reactions' }, entries.map(([emoji, users]) => h('button', {
    type: 'button',
    class: `chip${users.includes(state.me) ? ' mine' : ''}`,
    title: people(users.map(nameOf)),
    'aria-label': `${emoji} ${users.length}, ${users.includes(state.me) ? 'yours: click to remove' : 'click to add yours'}`,
    onclick: (e) => {
      e.stopPropagation();
      toggleReaction(m, emoji);
    },
  }, `${emoji} ${users.length}`)));
}

/** ✓ sent, ✓✓ seen by the other side (everyone, in a group). */
function tick(m) {
  const others = othersIn(m.conversationId);
  const readers = readersOf(m.conversationId, m.seq);
  const seen = others.length > 0 && readers.length === others.length;
  return h('span', { class: `tick${seen ? ' seen' : ''}`, title: seen ? 'Seen' : 'Sent' }, seen ? '✓✓' : '✓');
}

function actions(m, inThread) {
  const stop = (fn) => (e) => {
    e.stopPropagation();
    fn();
  };
  if (ui.confirmDelete === m.seq) {
    return h('div', { class: 'actions' },
      'Delete this message?',
      h('button', { type: 'button', class: 'danger', onclick: stop(() => {
        ui.confirmDelete = null;
        act(m.seq, () => chat.delete(m.conversationId, m.seq));
      }) }, 'Delete'),
      h('button', { type: 'button', onclick: stop(() => {
        ui.confirmDelete = null;
        onChange();
      }) }, 'Keep'));
  }
  const mine = m.senderId === state.me;
  const root = !inThread && m.threadRootSeq === undefined;
  return h('div', { class: 'actions' },
    root && h('button', { type: 'button', onclick: stop(() => {
      ui.replyTo = m.seq;
      onChange();
      $('text').focus();
    }) }, 'Reply'),
    root && h('button', { type: 'button', class: 'in-thread', 'aria-label': 'Reply in thread', onclick: stop(() => openThread(m.seq)) }, 'Thread'),
    h('button', { type: 'button', 'aria-label': 'Add a reaction', onclick: stop(() => {
      ui.picker = ui.picker === m.seq ? null : m.seq;
      onChange();
    }) }, '☺ React'),
    mine && h('button', { type: 'button', onclick: stop(() => startEdit(m)) }, 'Edit'),
    mine && h('button', { type: 'button', onclick: stop(() => {
      ui.confirmDelete = m.seq;
      onChange();
    }) }, 'Delete'));
}

function editor(m) {
  const text = h('textarea', {
    id: 'edit-text', rows: 2, 'aria-label': 'Edit message', value: ui.editing.draft,
    oninput: (e) => (ui.editing.draft = e.target.value),
    onclick: (e) => e.stopPropagation(),
    onkeydown: (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        saveEdit(m);
      } else if (e.key === 'Escape') {
        ui.editing = null;
        onChange();
        $('text').focus();
      }
    },
  });
  return h('div', { class: 'edit' }, text, h('div', { class: 'row' },
    h('button', { type: 'button', onclick: (e) => {
      e.stopPropagation();
      ui.editing = null;
      onChange();
    } }, 'Cancel'),
    h('button', { type: 'button', onclick: (e) => {
      e.stopPropagation();
      saveEdit(m);
    } }, 'Save')));
}

const capitalised = (text) => (text.startsWith('you') ? `Y${text.slice(1)}` : text);

/** "3 replies · bob, carol · last reply 14:02" under a root in the main timeline: opens its thread. */
function threadLink(m) {
  const t = m.thread;
  if (!t || t.replies === 0) return null;
  return h('button', {
    type: 'button', class: 'thread-link', title: 'Open the thread',
    onclick: (e) => {
      e.stopPropagation();
      openThread(m.seq);
    },
  },
  h('span', { class: 'count' }, `${t.replies} ${t.replies === 1 ? 'reply' : 'replies'}`),
  h('span', { class: 'people' }, capitalised(people(t.participants.map((u) => (u === state.me ? 'you' : u))))),
  h('span', { class: 'last' }, `last reply ${timeOf(t.lastReplyAt)}`));
}

/** A message; `inThread` for the thread panel (no quoting, no thread of its own there). */
export function bubble(m, showSender, inThread = false) {
  const mine = m.senderId === state.me;
  const editing = ui.editing?.seq === m.seq;
  const li = h('li', {
    class: `msg${mine ? ' mine' : ''}${m.deleted ? ' deleted' : ''}${ui.selected === m.seq ? ' selected' : ''}${!m.deleted && mentionsMe(m) ? ' mentions-me' : ''}`,
    dataset: { seq: String(m.seq) },
    onclick: () => {
      if (m.deleted) return;
      ui.selected = ui.selected === m.seq ? null : m.seq;
      onChange();
    },
  },
  showSender && h('div', { class: 'who' }, m.senderId),
  m.replyToSeq && !m.deleted && quote(m),
  editing ? editor(m) : (m.body || m.deleted || !m.attachments?.length) && h('div', { class: 'body' }, m.deleted ? 'This message was deleted' : bodyWithMentions(m)),
  !editing && filesOf(m),
  !m.deleted && reactionChips(m),
  h('div', { class: 'meta' }, m.editedAt && !m.deleted && h('span', { class: 'edited' }, 'edited'), h('time', { datetime: m.sentAt }, timeOf(m.sentAt)), mine && !m.deleted && tick(m)),
  !inThread && threadLink(m),
  !m.deleted && !editing && actions(m, inThread),
  ui.picker === m.seq && picker((emoji) => {
    ui.selected = null; // done with this message
    toggleReaction(m, emoji);
  }, m.reactions, state.me),
  ui.errors.has(m.seq) && h('p', { class: 'error', role: 'alert' }, ui.errors.get(m.seq)));
  return li;
}

/** A send not acknowledged yet (or refused): shown at once, at the end (of its thread, for a reply). */
export function pendingBubble(o) {
  const failed = o.status === 'failed';
  const target = o.replyToSeq && messagesOf(o.conversationId).get(o.replyToSeq);
  return h('li', { class: `msg mine ${failed ? 'failed' : 'pending'}`, dataset: { client: o.clientMsgId } },
    target && h('div', { class: 'quote' }, `↩ ${nameOf(target.senderId)}: ${snippet(target.body, 60)}`),
    o.body && h('div', { class: 'body' }, o.body),
    o.attachments?.length > 0 && h('div', { class: 'files' }, o.attachments.map((a) => h('div', { class: 'file loading' }, h('span', { class: 'file-name' }, a.name), h('span', { class: 'file-size' }, sizeOf(a.size))))),
    h('div', { class: 'meta' }, h('time', { datetime: o.createdAt }, timeOf(o.createdAt)), failed
      ? h('span', { class: 'failure' }, `Not sent: ${errorText(o.error)}`)
      : h('span', { class: 'sending', title: 'Waiting to be sent' }, '◷ sending…')),
    failed && h('div', { class: 'actions', style: 'display:flex' }, h('button', { type: 'button', onclick: () => {
      state.outbox.delete(o.clientMsgId);
      onChange();
    } }, 'Dismiss')));
}

/** "Seen by bob, carol" under the latest own message of `list` someone has read (groups up to SMALL_GROUP). */
export function seenBy(list) {
  const id = state.open;
  const others = othersIn(id);
  if (others.length < 2 || others.length >= SMALL_GROUP) return null;
  const last = [...list].reverse().find((m) => m.senderId === state.me && !m.deleted && readersOf(id, m.seq).length > 0);
  if (!last) return null;
  const readers = readersOf(id, last.seq);
  return { seq: last.seq, text: readers.length === others.length ? 'Seen by everyone' : `Seen by ${people(readers)}` };
}

let older;
/**
 * One "Show older messages" item for the page's life: every render would otherwise put a
 * new button where a person (or a test) is about to click the old one.
 */
function olderItem() {
  older ??= h('li', { class: 'older' }, h('button', { type: 'button', class: 'quiet', onclick: () => loadOlder() }, 'Show older messages'));
  return older;
}

export function renderThread() {
  const ol = $('messages');
  const id = state.open;
  const atBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
  const focusEdit = ui.editing?.focus || document.activeElement?.id === 'edit-text';
  const list = id ? timelineOf(id) : [];
  const group = id && state.conversations.get(id)?.type === 'group';
  const seen = id ? seenBy(list) : null;
  const items = [];
  if (id && state.pages.get(id)?.hasMore) items.push(olderItem());
  let day = '';
  let previous;
  for (const m of list) {
    if (dayKey(m.sentAt) !== day) {
      day = dayKey(m.sentAt);
      items.push(h('li', { class: 'day' }, dayOf(m.sentAt)));
      previous = undefined;
    }
    items.push(bubble(m, group && m.senderId !== state.me && previous?.senderId !== m.senderId));
    if (seen?.seq === m.seq) items.push(h('li', { class: 'seen-by' }, seen.text));
    previous = m;
  }
  const waiting = [...state.outbox.values()].filter((o) => o.conversationId === id && o.threadRootSeq === undefined);
  if (waiting.length > 0 && dayKey(waiting[0].createdAt) !== day) items.push(h('li', { class: 'day' }, dayOf(waiting[0].createdAt)));
  items.push(...waiting.map(pendingBubble));
  ol.replaceChildren(...items);
  if (focusEdit) {
    const t = $('edit-text');
    if (t) {
      t.focus();
      t.setSelectionRange(t.value.length, t.value.length);
    }
    if (ui.editing) ui.editing.focus = false;
  }
  if (atBottom || scrollDown) ol.scrollTop = ol.scrollHeight;
  scrollDown = false;
}

let scrollDown = false;
/** The next render ends at the latest message (a conversation just opened, an own send). */
export function toBottom() {
  scrollDown = true;
}

