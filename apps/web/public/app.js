// The web client: plain ES modules, the SDK built by `npm run build` (served at /sdk/),
// Socket.IO's own ESM client from the server. No CDN, no bundler.
import { ChatClient, LocalStorageCursorStore, LocalStorageOutboxStore } from '/sdk/index.js';
import { initAttach } from './attach.js';
import { clearCompose, clearThreadCompose, initCompose, renderCompose } from './compose.js';
import { closeDetails, initDetails, renderDetails } from './details.js';
import { $, showError } from './dom.js';
import { initFiles } from './files.js';
import { people } from './format.js';
import { renderList } from './list.js';
import { initSearch } from './search.js';
import { renderBanner, watchNetwork } from './network.js';
import { closeMute, initMute, renderMute } from './mute.js';
import { initNewChat } from './newchat.js';
import { connectionEnded, watchPresence as watch } from './presence.js';
import { initSession, token } from './session.js';
import {
  addHistory, addSnapshot, applyEvent, applyReceipts, conversationName, lastSeqOf, mergeSummaries, messagesOf, othersIn, peerOf, reset, saveKnown, SMALL_GROUP, state, typingIn,
} from './store.js';
import { initThread, renderThread, resetUi, toBottom, ui } from './thread.js';
import { initThreadPanel, loadReplies, renderThreadPanel, threadToBottom } from './thread-panel.js';

/** A `stop` that never came (the typer's tab closed) stops showing after this long. */
const TYPING_GIVE_UP_MS = 30_000;
let chat;

function start(me) {
  reset(me);
  resetUi();
  chat = new ChatClient({
    url: location.origin, token, userId: me,
    cursorStore: new LocalStorageCursorStore(localStorage, `chat.cursor.${me}`),
    outboxStore: new LocalStorageOutboxStore(localStorage, `chat.outbox.${me}`),
  });
  initThread(chat, render, showOlder, (root) => void openThread(root));
  initThreadPanel(chat, render);
  initCompose(chat, render, { threadDown: threadToBottom, closeThread });
  initAttach(chat, render);
  initFiles(chat, render);
  initMute(chat, render);
  initDetails(chat, render, left);
  initSearch(chat, jumpTo);
  initNewChat(chat, (conversation) => {
    watchPresence();
    return open(conversation.id);
  });
  wire(chat);
  watchNetwork(chat, render);
  if (navigator.onLine) chat.connect();
  $('signin').hidden = true;
  $('app').hidden = false;
  $('me').textContent = me;
  const hash = new URLSearchParams(location.hash.slice(1));
  const wanted = hash.get('c');
  const thread = Number(hash.get('t'));
  if (wanted) void open(wanted).then(() => Number.isSafeInteger(thread) && thread > 0 && state.open === wanted && openThread(thread));
  render();
}

// ---- the SDK's streams into the store ----

function wire(c) {
  c.on('status', (up) => {
    state.connected = up;
    if (!up) connectionEnded(); // presence is unknown until the next connection asks again
    if (up) {
      void refreshList();
      watchPresence();
      if (state.open && !state.pages.has(state.open)) void older(state.open).then(render);
      if (state.open) void markRead(state.open);
      // Markers moved while the connection was down: read them again (live `read` events keep them after).
      if (state.open) void receipts(state.open);
    }
    render();
  });
  c.on('snapshot', (conversations, events) => {
    mergeSummaries(conversations, true);
    // The snapshot's messages are in its counts already: known before they come as events.
    addSnapshot(events);
    watchPresence();
  });
  c.on('event', (e) => {
    const outcome = applyEvent(e, (id) => id === state.open && document.visibilityState === 'visible');
    if (outcome.refresh) void refreshList();
    if (outcome.left && outcome.left === state.open) closeConversation();
    if (e.type === 'conversation') watchPresence();
    if (e.conversationId === state.open && e.type === 'message') void markRead(e.conversationId);
    render();
  });
  c.on('outbox', (o) => {
    if (o.status === 'sent') state.outbox.delete(o.clientMsgId);
    else state.outbox.set(o.clientMsgId, o);
    render();
  });
  c.on('typing', (t) => {
    let m = state.typing.get(t.conversationId);
    if (!m) state.typing.set(t.conversationId, (m = new Map()));
    if (t.state === 'start') {
      m.set(t.userId, Date.now() + TYPING_GIVE_UP_MS);
      setTimeout(render, TYPING_GIVE_UP_MS + 100);
    } else m.delete(t.userId);
    render();
  });
  c.on('presence', (p) => {
    state.presence.set(p.userId, p.status);
    render();
  });
}

let listTimer;
/** The server's counts (after a reconnect, or when local counting cannot be exact). */
function refreshList() {
  clearTimeout(listTimer);
  listTimer = setTimeout(async () => {
    try {
      const askedAt = Date.now();
      mergeSummaries((await chat.request('conversation:list', { limit: 100 })).conversations, false, askedAt);
      watchPresence();
      render();
    } catch {
      /* offline: the next connect asks again */
    }
  }, 100);
}

const watchPresence = () => watch(chat, render);

// ---- opening a conversation, history, read markers ----

async function open(id) {
  if (state.open !== id) {
    resetUi();
    clearCompose();
    closeDetails();
    closeMute();
  }
  state.open = id;
  setHash();
  $('app').classList.add('in-thread');
  toBottom();
  render();
  if (!state.pages.has(id)) await older(id);
  toBottom();
  render();
  void markRead(id);
  void receipts(id);
  // Not on touch screens, where a focused box brings up the keyboard over the conversation.
  if (matchMedia('(hover: hover)').matches) $('text').focus();
}

/**
 * Opens a conversation at one of its messages (a search hit): pages back until the
 * message is loaded, then scrolls to it and marks it for a moment. A reply in a thread:
 * its root, with the thread open beside it.
 */
async function jumpTo(hit) {
  const id = hit.conversationId;
  const seq = hit.threadRootSeq ?? hit.seq;
  await open(id);
  while (state.open === id && !messagesOf(id).has(seq) && state.pages.get(id)?.hasMore) {
    const oldest = state.pages.get(id)?.oldest;
    await older(id);
    if (state.pages.get(id)?.oldest === oldest) break; // nothing more came (offline, refused)
  }
  if (state.open !== id) return;
  draw();
  const el = document.querySelector(`#messages [data-seq="${seq}"]`);
  if (!el) return;
  el.scrollIntoView({ block: 'center' });
  el.classList.add('found');
  setTimeout(() => el.classList.remove('found'), 2_000);
  if (hit.threadRootSeq !== undefined) await openThread(hit.threadRootSeq);
}

function setHash() {
  location.hash = !state.open ? '' : `c=${encodeURIComponent(state.open)}${ui.thread === null ? '' : `&t=${ui.thread}`}`;
}

/** Opens the thread of the root at `root` beside the conversation (over it, on a phone). */
async function openThread(root) {
  if (!state.open) return;
  if (ui.thread !== root) clearThreadCompose();
  ui.thread = root;
  ui.replyTo = null;
  closeDetails();
  setHash();
  threadToBottom();
  render();
  const id = state.open;
  await loadReplies(id, root);
  if (state.open !== id || ui.thread !== root) return;
  threadToBottom();
  render();
  if (matchMedia('(hover: hover)').matches) $('thread-text').focus();
}

function closeThread() {
  ui.thread = null;
  setHash();
  render();
  if (matchMedia('(hover: hover)').matches) $('text').focus();
}

$('thread-close').onclick = closeThread;
$('thread-back').onclick = closeThread;

function closeConversation() {
  state.open = null;
  ui.thread = null;
  location.hash = '';
  $('app').classList.remove('in-thread');
  closeDetails();
  render();
}

function left(id) {
  if (state.open === id) closeConversation();
  render();
}

$('back').onclick = closeConversation;

/** The page before the oldest message shown. */
async function older(id) {
  const page = state.pages.get(id);
  if (page && !page.hasMore) return;
  try {
    addHistory(id, await chat.history(id, page?.oldest, 30));
  } catch (err) {
    if (err.code === 'FORBIDDEN' && state.open === id) {
      showError($('compose-error'), 'You are not a member of this conversation any more.');
    }
  }
}

/** The page before, keeping in view what was in view. */
let loadingOlder = false;
async function showOlder() {
  const ol = $('messages');
  if (loadingOlder || !state.open || !state.pages.get(state.open)?.hasMore) return;
  loadingOlder = true;
  const before = ol.scrollHeight - ol.scrollTop;
  try {
    await older(state.open);
  } finally {
    loadingOlder = false;
  }
  draw();
  ol.scrollTop = ol.scrollHeight - before;
}

$('messages').onscroll = () => $('messages').scrollTop === 0 && void showOlder();

const marked = new Map();
/** Everything in the open conversation counts as read while the page is seen. */
async function markRead(id) {
  const c = state.conversations.get(id);
  const seq = lastSeqOf(id);
  if (!c || !chat?.online || document.visibilityState !== 'visible' || seq === 0) return;
  if (seq <= c.lastReadSeq && c.unread === 0) return;
  if ((marked.get(id) ?? 0) >= seq) return;
  marked.set(id, seq);
  try {
    await chat.markRead(id, seq);
  } catch {
    marked.delete(id); // the next message or reconnect tries again
  }
}

/** Others' read markers, where the server has `receipts`; otherwise what live `read` events told. */
async function receipts(id) {
  const c = state.conversations.get(id);
  if (!c || c.memberCount > SMALL_GROUP || !chat?.online) return;
  try {
    applyReceipts(id, await chat.receipts(id));
    render();
  } catch {
    /* an older server: live read events only */
  }
}

document.addEventListener('visibilitychange', () => {
  if (state.open) void markRead(state.open);
  render();
});

// ---- rendering ----

let scheduled = false;
function render() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    draw();
  });
}

function draw() {
  const c = state.open && state.conversations.get(state.open);
  renderList((id) => void open(id));
  $('title').textContent = c ? conversationName(c) : state.open ? '…' : 'Pick a conversation';
  $('subtitle').textContent = c ? subtitle(c) : '';
  renderThread();
  renderThreadPanel();
  renderCompose();
  renderMute();
  renderDetails();
  renderTyping();
  renderBanner();
  saveKnown();
}

function subtitle(c) {
  if (c.type === 'direct') {
    const status = state.presence.get(peerOf(c));
    return status === 'online' ? 'online' : status === 'offline' ? 'offline' : '';
  }
  const others = othersIn(c.id);
  const on = others.filter((u) => state.presence.get(u) === 'online').length;
  return `${c.memberCount} members${on ? `, ${on} online` : ''}`;
}

function renderTyping() {
  const who = state.open ? typingIn(state.open) : [];
  $('typing').textContent = who.length === 0 ? '' : `${people(who)} ${who.length === 1 ? 'is' : 'are'} typing…`;
}

initSession(start, () => chat?.close());
