// The web client: plain ES modules, the SDK built by `npm run build` (dist/web), Socket.IO's
// own ESM client from the server. No CDN, no bundler.
import { ChatClient, LocalStorageCursorStore } from '/sdk/index.js';

const $ = (id) => document.getElementById(id);
const state = {
  me: '', chat: null, open: null, conversations: [], messages: new Map(), online: new Map(), typing: new Map(),
  oldest: new Map(), more: new Map(), members: new Map(),
};

/** A conversation's name: its title, else the other members. */
const nameOf = (c) => c.title ?? ((state.members.get(c.id) ?? []).filter((u) => u !== state.me).join(', ') || c.type);

$('signin').onsubmit = async (e) => {
  e.preventDefault();
  state.me = $('name').value.trim();
  const token = async () => (await (await fetch(`/v1/dev/token?user=${encodeURIComponent(state.me)}&device=web`)).json()).token;
  state.chat = new ChatClient({ url: location.origin, token, cursorStore: new LocalStorageCursorStore(localStorage, `chat.cursor.${state.me}`) });
  wire(state.chat);
  state.chat.connect();
  $('signin').hidden = true;
  $('app').hidden = false;
  $('me').textContent = state.me;
};

function wire(chat) {
  chat.on('status', (up) => {
    $('offline').hidden = up;
    if (up) refreshList();
  });
  chat.on('snapshot', (conversations) => {
    state.conversations = conversations;
    renderList();
  });
  chat.on('event', (e) => {
    if (e.type === 'conversation' && e.conversation) learn(e.conversation);
    if (e.type === 'message') remember(e);
    else if (e.type === 'message:edited') patch(e, (m) => ({ ...m, body: e.body, editedAt: e.editedAt }));
    else if (e.type === 'message:deleted') patch(e, (m) => ({ ...m, body: '', deleted: true }));
    else if (e.type === 'reaction') patch(e, (m) => react(m, e));
    if (e.conversationId === state.open && e.type === 'message') void chat.markRead(e.conversationId, e.seq).catch(() => {});
    refreshList();
  });
  chat.on('typing', (t) => {
    if (t.state === 'start') state.typing.set(t.conversationId, t.userId);
    else state.typing.delete(t.conversationId);
    renderTyping();
  });
  chat.on('presence', (p) => {
    state.online.set(p.userId, p.status === 'online');
    renderMessages();
  });
}

function learn(conversation) {
  state.members.set(conversation.id, conversation.members);
  void state.chat.watchPresence(conversation.members.filter((u) => u !== state.me)).then(showPresence).catch(() => {});
}

function remember(m) {
  const list = state.messages.get(m.conversationId) ?? [];
  if (!list.some((x) => x.seq === m.seq)) list.push(m);
  list.sort((a, b) => a.seq - b.seq);
  state.messages.set(m.conversationId, list);
  if (m.senderId !== state.me && !state.online.has(m.senderId)) void state.chat.watchPresence([m.senderId]).then(showPresence);
  if (m.conversationId === state.open) renderMessages();
}

function patch(e, change) {
  const list = state.messages.get(e.conversationId) ?? [];
  const i = list.findIndex((m) => m.seq === e.targetSeq);
  if (i >= 0) list[i] = change(list[i]);
  if (e.conversationId === state.open) renderMessages();
}

function react(m, e) {
  const reactions = { ...(m.reactions ?? {}) };
  const users = new Set(reactions[e.emoji] ?? []);
  e.op === 'add' ? users.add(e.userId) : users.delete(e.userId);
  if (users.size) reactions[e.emoji] = [...users];
  else delete reactions[e.emoji];
  return { ...m, reactions };
}

function showPresence(list) {
  for (const p of list) state.online.set(p.userId, p.status === 'online');
  renderMessages();
}

let listTimer;
function refreshList() {
  clearTimeout(listTimer);
  listTimer = setTimeout(async () => {
    try {
      state.conversations = (await state.chat.request('conversation:list', { limit: 100 })).conversations;
      renderList();
    } catch {
      /* offline: the next status change refreshes */
    }
  }, 100);
}

function renderList() {
  const ul = $('conversations');
  ul.replaceChildren(
    ...state.conversations.map((c) => {
      const li = document.createElement('li');
      li.className = c.id === state.open ? 'open' : '';
      li.dataset.id = c.id;
      const name = document.createElement('span');
      name.textContent = nameOf(c);
      li.append(name);
      if (c.unread > 0 && c.id !== state.open) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = String(c.unread);
        li.append(badge);
      }
      li.onclick = () => open(c);
      return li;
    }),
  );
}

async function open(c) {
  state.open = c.id;
  $('title').textContent = nameOf(c);
  $('compose').hidden = false;
  if (!state.oldest.has(c.id)) await older(c.id);
  renderList();
  renderMessages(true);
  if (c.lastSeq) void state.chat.markRead(c.id, c.lastSeq).catch(() => {});
}

/** Infinite scroll: the page before the oldest shown. */
async function older(id) {
  if (state.more.get(id) === false) return;
  const page = await state.chat.history(id, state.oldest.get(id), 30);
  for (const m of page.messages) remember(m);
  state.more.set(id, page.hasMore);
  if (page.messages[0]) state.oldest.set(id, page.messages[0].seq);
  else state.oldest.set(id, undefined);
}

$('messages').onscroll = async () => {
  if ($('messages').scrollTop > 0 || !state.open) return;
  const before = $('messages').scrollHeight;
  await older(state.open);
  renderMessages();
  $('messages').scrollTop = $('messages').scrollHeight - before;
};

function renderMessages(toBottom = false) {
  const ol = $('messages');
  const atBottom = toBottom || ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
  ol.replaceChildren(
    ...(state.messages.get(state.open) ?? []).map((m) => {
      const li = document.createElement('li');
      li.className = `${m.senderId === state.me ? 'mine' : ''} ${m.deleted ? 'deleted' : ''}`;
      li.dataset.seq = String(m.seq);
      const who = document.createElement('div');
      who.className = 'who';
      const dot = document.createElement('span');
      dot.className = `dot ${m.senderId === state.me || state.online.get(m.senderId) ? 'online' : ''}`;
      who.append(dot, `${m.senderId}${m.editedAt ? ' · edited' : ''}`);
      const body = document.createElement('div');
      body.className = 'body';
      body.textContent = m.deleted ? 'message deleted' : m.body;
      const reactions = document.createElement('div');
      reactions.className = 'reactions';
      reactions.textContent = Object.entries(m.reactions ?? {}).map(([e, u]) => `${e} ${u.length}`).join('  ');
      const actions = document.createElement('span');
      actions.className = 'actions';
      if (!m.deleted) {
        actions.append(button('👍', () => state.chat.request('reaction:add', { conversationId: m.conversationId, seq: m.seq, emoji: '👍' })));
        if (m.senderId === state.me) {
          actions.append(button('edit', () => {
            const body = prompt('edit', m.body);
            if (body) return state.chat.request('message:edit', { conversationId: m.conversationId, seq: m.seq, body });
          }));
          actions.append(button('delete', () => state.chat.request('message:delete', { conversationId: m.conversationId, seq: m.seq })));
        }
      }
      who.append(actions);
      li.append(who, body, reactions);
      return li;
    }),
  );
  if (atBottom) ol.scrollTop = ol.scrollHeight;
}

function button(label, action) {
  const b = document.createElement('button');
  b.textContent = label;
  b.onclick = () => void Promise.resolve(action()).catch((err) => alert(err.message));
  return b;
}

function renderTyping() {
  const who = state.typing.get(state.open);
  $('typing').textContent = who ? `${who} is typing…` : '';
}

$('text').oninput = () => state.open && state.chat.keystroke(state.open);
$('compose').onsubmit = async (e) => {
  e.preventDefault();
  const body = $('text').value.trim();
  if (!body || !state.open) return;
  $('text').value = '';
  const conversationId = state.open;
  // Kept in the outbox while offline; shown once the server has it (with its seq).
  const ack = await state.chat.send(conversationId, body);
  remember({ type: 'message', conversationId, seq: ack.seq, senderId: state.me, clientMsgId: '', body, sentAt: ack.sentAt });
};

$('new').onsubmit = async (e) => {
  e.preventDefault();
  const members = $('members').value.split(',').map((s) => s.trim()).filter(Boolean);
  const { conversation } = await state.chat.request('conversation:create', { type: $('kind').value, members });
  $('members').value = '';
  learn(conversation);
  refreshList();
  await open({ id: conversation.id, title: conversation.title, lastSeq: conversation.lastSeq });
};
