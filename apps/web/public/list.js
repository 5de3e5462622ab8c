// The conversation list: name, presence, last message and its time, unread and mention badges.
import { $, h } from './dom.js';
import { listTime, snippet } from './format.js';
import { conversationName, othersIn, peerOf, sortedConversations, state, totalUnread } from './store.js';

function preview(c) {
  const m = c.lastMessage;
  if (!m) return c.type === 'group' ? `${c.memberCount} members` : 'No messages yet';
  const who = m.senderId === state.me ? 'You: ' : c.type === 'group' ? `${m.senderId}: ` : '';
  return `${who}${m.deleted ? 'message deleted' : snippet(m.body)}`;
}

/** A direct conversation's peer online, or anyone else in a group. */
function online(c) {
  const who = c.type === 'direct' ? [peerOf(c)].filter(Boolean) : othersIn(c.id);
  return who.some((u) => state.presence.get(u) === 'online');
}

export function renderList(open) {
  const items = sortedConversations().map((c) => {
    const open_ = c.id === state.open;
    // The open conversation counts as read only while the page is seen.
    const shown = open_ && document.visibilityState === 'visible';
    const unread = shown ? 0 : c.unread;
    return h('li', {
      class: `conv${open_ ? ' open' : ''}${unread > 0 ? ' unread' : ''}`,
      dataset: { id: c.id },
      onclick: () => open(c.id),
    },
    h('span', { class: `dot${online(c) ? ' online' : ''}`, title: online(c) ? 'online' : 'offline' }),
    h('span', { class: 'name' }, conversationName(c)),
    h('span', { class: 'when' }, listTime(c.lastMessage?.sentAt ?? c.lastActivityAt)),
    h('span', { class: 'preview' }, preview(c)),
    h('span', { class: 'badges' },
      !shown && c.unreadMentions > 0 && h('span', { class: 'badge mention', title: 'mentions you' }, '@'),
      unread > 0 && h('span', { class: 'badge', title: `${unread} unread` }, String(unread))));
  });
  $('conversations').replaceChildren(...items);
  $('empty-list').hidden = items.length > 0;
  const seen = state.open && document.visibilityState === 'visible' ? state.conversations.get(state.open)?.unread ?? 0 : 0;
  const total = totalUnread() - seen;
  document.title = total > 0 ? `(${total}) chat` : 'chat';
}
