// The conversation list: name, presence, last message and its time, unread and mention
// badges, and whether it is muted (its badges then grey, and out of the tab's title).
import { $, h, icon } from './dom.js';
import { listTime, snippet } from './format.js';
import { notifyLabel } from './mute.js';
import { conversationName, notifyOf, othersIn, peerOf, sortedConversations, state, totalUnread, unreadWorthShowing } from './store.js';

function preview(c) {
  const m = c.lastMessage;
  if (!m) return c.type === 'group' ? `${c.memberCount} members` : 'No messages yet';
  const who = m.senderId === state.me ? 'You: ' : c.type === 'group' ? `${m.senderId}: ` : '';
  const files = !m.deleted && m.attachments?.length ? `${m.attachments.length === 1 ? m.attachments[0].name : `${m.attachments.length} files`}${m.body ? ' · ' : ''}` : '';
  return `${who}${m.deleted ? 'message deleted' : `${files}${snippet(m.body)}`}`;
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
    const mentions = shown ? 0 : c.unreadMentions ?? 0;
    const n = notifyOf(c);
    const silent = Boolean(n.mutedUntil) || n.level === 'none';
    return h('li', {
      class: `conv${open_ ? ' open' : ''}${unread > 0 ? ' unread' : ''}`,
      dataset: { id: c.id },
      onclick: () => open(c.id),
    },
    h('span', { class: `dot${online(c) ? ' online' : ''}`, title: online(c) ? 'online' : 'offline' }),
    h('span', { class: 'name' }, conversationName(c), silent && h('span', { class: 'muted', title: notifyLabel(c), role: 'img', 'aria-label': 'muted' }, icon('bell-off', 13))),
    h('span', { class: 'when' }, listTime(c.lastMessage?.sentAt ?? c.lastActivityAt)),
    h('span', { class: 'preview' }, preview(c)),
    h('span', { class: 'badges' },
      mentions > 0 && h('span', { class: `badge mention${silent ? ' quiet' : ''}`, title: `${mentions} ${mentions === 1 ? 'mention' : 'mentions'} of you` }, `@${mentions}`),
      unread > 0 && h('span', { class: `badge${silent || n.level === 'mentions' ? ' quiet' : ''}`, title: `${unread} unread` }, String(unread))));
  });
  $('conversations').replaceChildren(...items);
  // Search hits take the list's place while shown.
  $('empty-list').hidden = items.length > 0 || !$('search-results').hidden;
  const viewed = state.open && document.visibilityState === 'visible' && state.conversations.get(state.open);
  const seen = viewed ? unreadWorthShowing(viewed) : 0;
  const total = totalUnread() - seen;
  document.title = total > 0 ? `(${total}) chat` : 'chat';
}
