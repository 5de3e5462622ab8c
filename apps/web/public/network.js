// Offline as a person notices it: the browser's own network state at once (navigator.onLine
// and its events), the socket's for everything else (a server gone, a dead link).
import { $ } from './dom.js';
import { state } from './store.js';

export function watchNetwork(chat, changed) {
  window.addEventListener('offline', () => {
    state.network = false;
    // No connection to wait out: the socket would take its ping timeout to notice.
    chat.close();
    changed();
  });
  window.addEventListener('online', () => {
    state.network = true;
    chat.connect();
    changed();
  });
}

export function renderBanner() {
  const waiting = [...state.outbox.values()].filter((o) => o.status === 'pending').length;
  const down = !state.network || !state.connected;
  const banner = $('offline');
  banner.hidden = !down;
  if (!down) return;
  banner.classList.toggle('reconnecting', state.network);
  const what = state.network ? 'Connecting to the server…' : 'You are offline.';
  const outbox = waiting === 0 ? '' : ` ${waiting} ${waiting === 1 ? 'message' : 'messages'} waiting to be sent.`;
  banner.textContent = `${what}${outbox} New messages will appear when you are back.`;
}
