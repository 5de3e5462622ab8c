// The thread panel: a root, its replies (paged back on demand) and a box to reply there.
// Beside the conversation on a wide screen; on a phone it takes the screen, with a back button.
import { $, h } from './dom.js';
import { errorText } from './format.js';
import { addThreadHistory, conversationName, messagesOf, repliesTo, state, threadLoaded, threadPage } from './store.js';
import { bubble, pendingBubble, seenBy, ui } from './thread.js';

let chat;
let onChange = () => {};
let scrollDown = false;
let loading = false;
/** Why the replies could not be read (the root gone, the connection down), shown in the panel. */
let failed = null;

export function initThreadPanel(client, changed) {
  chat = client;
  onChange = changed;
}

/** The next render ends at the latest reply (the thread just opened, an own reply). */
export function threadToBottom() {
  scrollDown = true;
}

/** A page of replies before the oldest shown (the latest page first). */
export async function loadReplies(id, root) {
  const page = threadPage(id, root);
  if ((page && !page.hasMore) || loading) return;
  loading = true;
  failed = null;
  try {
    addThreadHistory(id, root, await chat.threadHistory(id, root, page?.oldest, 50));
  } catch (err) {
    failed = err;
  } finally {
    loading = false;
  }
}

export async function showOlderReplies() {
  const id = state.open;
  const root = ui.thread;
  if (!id || root === null) return;
  const ol = $('replies');
  const before = ol.scrollHeight - ol.scrollTop;
  await loadReplies(id, root);
  onChange();
  requestAnimationFrame(() => (ol.scrollTop = ol.scrollHeight - before));
}

let olderReplies;

export function renderThreadPanel() {
  const id = state.open;
  const root = ui.thread;
  const open = Boolean(id) && root !== null;
  $('thread-panel').hidden = !open;
  $('pane').classList.toggle('with-thread', open);
  if (!open) return;
  const ol = $('replies');
  const atBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
  const first = messagesOf(id).get(root);
  const replies = repliesTo(id, root);
  const count = Math.max(first?.thread?.replies ?? 0, replies.length);
  $('thread-subtitle').textContent = conversationName(state.conversations.get(id));
  const group = state.conversations.get(id)?.type === 'group';
  const items = [];
  if (first) items.push(bubble(first, first.senderId !== state.me, true));
  else items.push(h('li', { class: 'hint' }, 'The first message of this thread is further back in the conversation.'));
  items.push(h('li', { class: 'replies-count' }, count === 0 ? 'No replies yet' : `${count} ${count === 1 ? 'reply' : 'replies'}`));
  if (failed) items.push(h('li', { class: 'error', role: 'alert' }, `The replies could not be read: ${errorText(failed)}`));
  else if (!threadLoaded(id, root)) items.push(h('li', { class: 'hint' }, 'Loading replies…'));
  else if (threadPage(id, root)?.hasMore) {
    // One item for the page's life, as the main timeline's: a render never swaps it under a click.
    olderReplies ??= h('li', { class: 'older' }, h('button', { type: 'button', class: 'quiet', onclick: () => void showOlderReplies() }, 'Show older replies'));
    items.push(olderReplies);
  }
  const seen = seenBy(replies);
  let previous = first;
  for (const m of replies) {
    items.push(bubble(m, group && m.senderId !== state.me && previous?.senderId !== m.senderId, true));
    if (seen?.seq === m.seq) items.push(h('li', { class: 'seen-by' }, seen.text));
    previous = m;
  }
  items.push(...[...state.outbox.values()].filter((o) => o.conversationId === id && o.threadRootSeq === root).map(pendingBubble));
  // The server takes no reply to a deleted root: no box to write one in.
  const closed = first?.deleted === true;
  if (closed) items.push(h('li', { class: 'hint closed' }, 'The first message was deleted: this thread takes no new replies.'));
  $('thread-compose').hidden = closed;
  ol.replaceChildren(...items);
  if (atBottom || scrollDown) ol.scrollTop = ol.scrollHeight;
  scrollDown = false;
}
