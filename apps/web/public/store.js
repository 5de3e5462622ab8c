// What the page knows and how each event changes it. No DOM here: the views read it.
import { notifyState, withReplies, withReply } from '/sdk/index.js';

/** Groups up to this size show "seen by" with names (and summaries list their members). */
export const SMALL_GROUP = 20;

export const state = {
  me: '',
  /** id -> summary: { id, type, title, memberCount, lastSeq, lastReadSeq, unread, unreadMentions, notify, lastMessage, lastActivityAt } */
  conversations: new Map(),
  /** id -> Map(seq -> Message): the main timeline and the thread replies (`threadRootSeq`) alike */
  messages: new Map(),
  /** id -> { oldest, hasMore }: how far back history has been read */
  pages: new Map(),
  /** `${id}:${rootSeq}` -> { oldest, hasMore }: how far back a thread has been read */
  threadPages: new Map(),
  /** id -> when this page last changed the notify setting there (a list asked before then is older) */
  notifyChanged: new Map(),
  /** clientMsgId -> outbox entry (pending or failed own sends) */
  outbox: new Map(),
  /** id -> member ids (from summaries, conversation events, create answers, senders) */
  members: new Map(),
  /** ids whose members came from the server as a whole list (not guessed from senders) */
  exact: new Set(),
  /** id -> Map(userId -> seq): the other members' read markers */
  markers: new Map(),
  /** userId -> 'online' | 'offline' */
  presence: new Map(),
  /** id -> Map(userId -> expiry time) */
  typing: new Map(),
  open: null,
  /** The browser's network (navigator.onLine) and the SDK's connection. */
  network: navigator.onLine,
  connected: false,
};

const knownKey = () => `chat.known.${state.me}`;

/** Starts over for a user; what was learned of members and markers comes back from localStorage. */
export function reset(me) {
  state.me = me;
  for (const key of ['conversations', 'messages', 'pages', 'threadPages', 'notifyChanged', 'outbox', 'members', 'exact', 'markers', 'presence', 'typing']) state[key].clear();
  state.open = null;
  try {
    const known = JSON.parse(localStorage.getItem(knownKey()) ?? '{}');
    for (const [id, members] of Object.entries(known.members ?? {})) state.members.set(id, new Set(members));
    for (const id of known.exact ?? []) state.exact.add(id);
    for (const [id, markers] of Object.entries(known.markers ?? {})) state.markers.set(id, new Map(Object.entries(markers)));
    for (const c of known.conversations ?? []) state.conversations.set(c.id, c);
    for (const m of known.thread ?? []) messagesOf(m.conversationId).set(m.seq, m);
  } catch {
    /* nothing usable: learned again from events */
  }
}

/** How many of the open conversation's latest messages a reload shows before the server answers. */
const KEEP_MESSAGES = 50;

let saveTimer;
/**
 * Kept for the next reload: members and others' markers (not in every answer of older
 * servers), and the list and the open conversation's latest messages, so that a reload
 * without a connection still shows where one was (and the outbox beside it).
 */
export function saveKnown() {
  // At most every 200 ms, however often asked (not pushed back by each change), and at once when the page goes.
  saveTimer ??= setTimeout(writeKnown, 200);
}

function writeKnown() {
  clearTimeout(saveTimer);
  saveTimer = undefined;
  if (!state.me) return;
  const members = Object.fromEntries([...state.members].map(([id, m]) => [id, [...m]]));
  const markers = Object.fromEntries([...state.markers].map(([id, m]) => [id, Object.fromEntries(m)]));
  const conversations = [...state.conversations.values()];
  const thread = state.open ? [...messagesOf(state.open).values()].sort((a, b) => a.seq - b.seq).slice(-KEEP_MESSAGES) : [];
  try {
    localStorage.setItem(knownKey(), JSON.stringify({ members, exact: [...state.exact], markers, conversations, thread }));
  } catch {
    /* storage full: it is only a cache */
  }
}

addEventListener('pagehide', writeKnown);

/** A whole member list (`exact`), or members seen (a sender), which add to a list not known whole. */
export function learnMembers(id, members, exact = true) {
  if (exact) state.exact.add(id);
  else if (state.exact.has(id) || members.every((u) => state.members.get(id)?.has(u))) return;
  state.members.set(id, exact ? new Set(members) : new Set([...(state.members.get(id) ?? []), ...members]));
  saveKnown();
}

/** The other side of a direct conversation, or undefined while unknown. */
export function peerOf(c) {
  if (c.peerId) return c.peerId;
  return [...(state.members.get(c.id) ?? [])].find((u) => u !== state.me);
}

export function othersIn(id) {
  return [...(state.members.get(id) ?? [])].filter((u) => u !== state.me);
}

export function conversationName(c) {
  if (!c) return '';
  if (c.title) return c.title;
  if (c.type === 'direct') return peerOf(c) ?? 'Direct message';
  const others = othersIn(c.id).sort();
  if (others.length === 0) return c.memberCount > 1 ? `Group of ${c.memberCount}` : 'Just you';
  return others.length <= 3 ? others.join(', ') : `${others.slice(0, 3).join(', ')} and ${others.length - 3} more`;
}

/** As the server counts `unreadMentions`: the message's `mentions` name the user (never its own). */
export const mentionsMe = (m) => m.senderId !== state.me && (m.mentions ?? []).includes(state.me);

/**
 * Summaries from the server: theirs where the server is ahead, ours where events got here
 * first. `askedAt`: when the list was asked for; a notify setting this page changed since
 * is newer than the list's.
 */
export function mergeSummaries(list, replace = false, askedAt = 0) {
  if (replace) state.conversations.clear();
  for (const s of list) {
    const local = state.conversations.get(s.id);
    const ahead = local && local.lastSeq > s.lastSeq;
    const next = ahead ? { ...s, ...pick(local, ['lastSeq', 'lastMessage', 'lastActivityAt', 'unread', 'unreadMentions', 'lastReadSeq']) } : { ...s, unreadMentions: s.unreadMentions ?? 0 };
    if (local?.notify && (state.notifyChanged.get(s.id) ?? 0) > askedAt) next.notify = local.notify;
    next.notify ??= { level: 'all' };
    state.conversations.set(s.id, next);
    if (s.members) learnMembers(s.id, s.members);
    else if (s.peerId) learnMembers(s.id, [state.me, s.peerId]);
  }
}

let made = false;
const pick = (o, keys) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

/** The summary of `id`, made up until the server's list has it (`made` then asks for the list). */
function summaryFor(id, at) {
  let c = state.conversations.get(id);
  made = !c;
  if (!c) {
    c = { id, type: id.startsWith('d_') ? 'direct' : 'group', memberCount: state.members.get(id)?.size ?? 0, lastSeq: 0, lastReadSeq: 0, unread: 0, unreadMentions: 0, notify: { level: 'all' }, lastActivityAt: at ?? new Date().toISOString() };
    state.conversations.set(id, c);
  }
  return c;
}

function fromInfo(info) {
  const c = summaryFor(info.id, info.createdAt);
  Object.assign(c, { type: info.type, memberCount: info.members.length, lastSeq: Math.max(c.lastSeq, info.lastSeq), ...(info.title && { title: info.title }) });
  learnMembers(info.id, info.members);
}

/** A `conversation:create` answer. */
export function addConversation(info) {
  fromInfo(info);
}

export function messagesOf(id) {
  let m = state.messages.get(id);
  if (!m) state.messages.set(id, (m = new Map()));
  return m;
}

/** The latest messages a snapshot holds: stored, never counted (the summaries count them). */
export function addSnapshot(events) {
  for (const m of events) {
    if (m.type !== 'message') continue;
    messagesOf(m.conversationId).set(m.seq, m);
    learnMembers(m.conversationId, [m.senderId], false);
  }
}

/** A page of the main timeline: stored, never counted as unread. */
export function addHistory(id, page) {
  store(id, page.messages);
  const oldest = page.messages[0]?.seq ?? state.pages.get(id)?.oldest;
  state.pages.set(id, { oldest, hasMore: page.hasMore && page.messages.length > 0 });
}

/** A page of a thread's replies. */
export function addThreadHistory(id, rootSeq, page) {
  store(id, page.messages);
  const key = `${id}:${rootSeq}`;
  const oldest = page.messages[0]?.seq ?? state.threadPages.get(key)?.oldest;
  state.threadPages.set(key, { oldest, hasMore: page.hasMore && page.messages.length > 0 });
  const root = messagesOf(id).get(rootSeq);
  if (root) messagesOf(id).set(rootSeq, { ...root, thread: withReplies(root.thread, repliesTo(id, rootSeq)) });
}

export const threadLoaded = (id, rootSeq) => state.threadPages.has(`${id}:${rootSeq}`);
export const threadPage = (id, rootSeq) => state.threadPages.get(`${id}:${rootSeq}`);

/**
 * Messages read from the server: what the page knows already stays (events came after the
 * page was read), except a root's thread summary, which the page takes from whichever copy
 * counts more replies, then brings up to the replies it holds (a page read before the
 * projection counted a reply that came live).
 */
function store(id, messages) {
  const list = messagesOf(id);
  for (const m of messages) {
    const known = list.get(m.seq);
    const thread = !known || (m.thread?.lastReplySeq ?? 0) > (known.thread?.lastReplySeq ?? 0) ? m.thread : known.thread;
    const next = { ...(known ?? m), ...(thread && { thread: withReplies(thread, repliesTo(id, m.seq)) }) };
    list.set(m.seq, next);
    learnMembers(id, [m.senderId], false);
  }
}

/** The replies held of the thread of `rootSeq`, by seq. */
export function repliesTo(id, rootSeq) {
  return [...messagesOf(id).values()].filter((m) => m.threadRootSeq === rootSeq).sort((a, b) => a.seq - b.seq);
}

/** The main timeline held: thread replies left out, as the server's `history` does. */
export function timelineOf(id) {
  return [...messagesOf(id).values()].filter((m) => m.threadRootSeq === undefined).sort((a, b) => a.seq - b.seq);
}

/**
 * One event of the SDK's stream (live, synced, or this tab's own from its ack).
 * `isRead(id)` says whether a new message counts as read at once (the conversation is open and seen).
 * Returns what needs doing: { refresh } when the server's counts are needed.
 */
export function applyEvent(e, isRead) {
  const id = e.conversationId;
  if (e.type === 'conversation') return applyMembership(e);
  if (e.type === 'read') return applyRead(e);
  if (e.type === 'notify') return applyNotify(e);
  const c = summaryFor(id, e.sentAt);
  const wasMade = made;
  c.lastSeq = Math.max(c.lastSeq, e.seq);
  const list = messagesOf(id);
  if (e.type === 'message') {
    const known = list.has(e.seq); // shown from before a reload: counted then
    list.set(e.seq, e);
    // The server sends nothing when a root's summary changes: each reply it sees updates the copy here.
    const root = e.threadRootSeq !== undefined && list.get(e.threadRootSeq);
    if (root) list.set(root.seq, { ...root, thread: withReply(root.thread, e) });
    learnMembers(id, [e.senderId], false);
    state.typing.get(id)?.delete(e.senderId);
    if (!c.lastMessage || c.lastMessage.seq < e.seq) {
      c.lastMessage = e;
      c.lastActivityAt = e.sentAt;
    }
    if (!known && e.senderId !== state.me && e.seq > c.lastReadSeq && !isRead(id)) {
      c.unread += 1;
      if (mentionsMe(e)) c.unreadMentions = (c.unreadMentions ?? 0) + 1;
    }
    return { refresh: wasMade };
  }
  const target = list.get(e.targetSeq);
  const change = (m) => {
    if (e.type === 'message:edited') return { ...m, body: e.body, editedAt: e.editedAt };
    if (e.type === 'message:deleted') return { ...m, body: '', deleted: true, reactions: undefined };
    return { ...m, reactions: react(m.reactions, e) };
  };
  if (target) list.set(e.targetSeq, change(target));
  if (c.lastMessage?.seq === e.targetSeq) c.lastMessage = change(c.lastMessage);
  return { refresh: wasMade };
}

function react(reactions = {}, e) {
  const next = { ...reactions };
  const users = new Set(next[e.emoji] ?? []);
  if (e.op === 'add') users.add(e.userId);
  else users.delete(e.userId);
  if (users.size > 0) next[e.emoji] = [...users];
  else delete next[e.emoji];
  return Object.keys(next).length ? next : undefined;
}

function applyMembership(e) {
  const id = e.conversationId;
  if (e.change === 'members_removed') {
    if (e.userIds.includes(state.me)) {
      state.conversations.delete(id);
      state.messages.delete(id);
      state.pages.delete(id);
      return { left: id };
    }
    const members = state.members.get(id);
    if (members) {
      for (const u of e.userIds) members.delete(u);
      learnMembers(id, [...members]);
    }
    const c = state.conversations.get(id);
    if (c) Object.assign(c, { memberCount: Math.max(0, c.memberCount - e.userIds.length), lastSeq: Math.max(c.lastSeq, e.seq) });
    return {};
  }
  if (e.conversation) fromInfo(e.conversation);
  else if (state.members.has(id)) {
    // This tab's own addition (made from the ack, which carries no member list).
    const members = state.members.get(id);
    const added = e.userIds.filter((u) => !members.has(u));
    for (const u of added) members.add(u);
    saveKnown();
    const known = state.conversations.get(id);
    if (known) known.memberCount += added.length;
  }
  const c = summaryFor(id);
  c.lastSeq = Math.max(c.lastSeq, e.seq);
  return e.conversation ? {} : { refresh: true };
}

/** The user's own setting, from another tab or device (or this one's own, from the SDK). */
function applyNotify(e) {
  const c = state.conversations.get(e.conversationId);
  if (!c) return { refresh: true };
  c.notify = { level: e.level, ...(e.muteUntil && { muteUntil: e.muteUntil }) };
  state.notifyChanged.set(e.conversationId, Date.now());
  return {};
}

/** What the setting of a conversation means now: `{ level, mutedUntil? }`. */
export const notifyOf = (c) => notifyState(c?.notify);

/** Whether the conversation's unread messages are worth a person's attention: not muted, not "nothing". */
export function quietUnread(c) {
  const n = notifyOf(c);
  return Boolean(n.mutedUntil) || n.level !== 'all';
}

function applyRead(e) {
  const id = e.conversationId;
  if (e.userId !== state.me) {
    let markers = state.markers.get(id);
    if (!markers) state.markers.set(id, (markers = new Map()));
    if ((markers.get(e.userId) ?? 0) < e.seq) markers.set(e.userId, e.seq);
    saveKnown();
    return {};
  }
  const c = state.conversations.get(id);
  if (!c || e.seq <= c.lastReadSeq) return {};
  c.lastReadSeq = e.seq;
  if (e.seq >= c.lastSeq) {
    c.unread = 0;
    c.unreadMentions = 0;
    return {};
  }
  return { refresh: true }; // read up to the middle: the server counts what is left
}

export function applyReceipts(id, members) {
  const markers = new Map(state.markers.get(id) ?? []);
  for (const { userId, lastReadSeq } of members) if (userId !== state.me && (markers.get(userId) ?? 0) < lastReadSeq) markers.set(userId, lastReadSeq);
  state.markers.set(id, markers);
  saveKnown();
}

/** Who of the others has read up to `seq`. */
export function readersOf(id, seq) {
  const markers = state.markers.get(id);
  if (!markers) return [];
  return othersIn(id).filter((u) => (markers.get(u) ?? 0) >= seq);
}

export function typingIn(id, now = Date.now()) {
  const m = state.typing.get(id);
  if (!m) return [];
  for (const [u, until] of m) if (until < now) m.delete(u);
  return [...m.keys()].sort();
}

/**
 * What the tab's title counts: unread messages, but of a conversation set to mentions only
 * its unread mentions, and nothing of one muted or set to nothing (as Slack counts).
 */
export function unreadWorthShowing(c) {
  const n = notifyOf(c);
  if (n.mutedUntil || n.level === 'none') return 0;
  return n.level === 'mentions' ? c.unreadMentions ?? 0 : c.unread;
}

export function totalUnread() {
  let n = 0;
  for (const c of state.conversations.values()) n += unreadWorthShowing(c);
  return n;
}

/** Conversations, newest activity first. */
export function sortedConversations() {
  return [...state.conversations.values()].sort((a, b) => (b.lastActivityAt ?? '').localeCompare(a.lastActivityAt ?? ''));
}

export function lastSeqOf(id) {
  const c = state.conversations.get(id);
  let max = c?.lastSeq ?? 0;
  for (const seq of state.messages.get(id)?.keys() ?? []) max = Math.max(max, seq);
  return max;
}
