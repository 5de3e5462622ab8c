// Presence of everyone in one's conversations (the server answers for those only), asked
// once per connection and then followed from `presence` events.
import { othersIn, peerOf, state } from './store.js';

const watched = new Set();

/** Subscriptions end with the connection: the next one asks again. */
export function connectionEnded() {
  watched.clear();
  state.presence.clear();
}

export function watchPresence(chat, changed) {
  if (!chat?.online) return;
  const ids = new Set();
  for (const c of state.conversations.values()) {
    for (const u of othersIn(c.id)) ids.add(u);
    if (peerOf(c)) ids.add(peerOf(c));
  }
  const fresh = [...ids].filter((u) => !watched.has(u)).slice(0, 500);
  if (fresh.length === 0) return;
  for (const u of fresh) watched.add(u);
  chat.watchPresence(fresh).then((list) => {
    for (const p of list) state.presence.set(p.userId, p.status);
    changed();
  }, () => fresh.forEach((u) => watched.delete(u)));
}
