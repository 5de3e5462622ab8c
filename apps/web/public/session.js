// Signing in by name (the server's development tokens), staying signed in across reloads,
// signing out.
import { $, showError } from './dom.js';
import { USER_ID } from './format.js';
import { state } from './store.js';

const SESSION = 'chat.session';

async function fetchToken(user) {
  let res;
  try {
    res = await fetch(`/v1/dev/token?user=${encodeURIComponent(user)}&device=web`);
  } catch {
    throw new Error('Cannot reach the server: check your connection and try again.');
  }
  if (res.status === 404) throw new Error('This server does not hand out sign-in tokens (development tokens are off).');
  if (!res.ok) throw new Error(`The server refused the sign-in (${res.status}).`);
  return (await res.json()).token;
}

/** The SDK's token function, at every (re)connect: while the server cannot be reached, tried again until it can. */
export async function token() {
  for (;;) {
    try {
      return await fetchToken(state.me);
    } catch {
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}

/** Calls `start(name)` once signed in: now, if the last session is still there, or from the form. */
export function initSession(start, stop) {
  $('signin').onsubmit = async (e) => {
    e.preventDefault();
    const name = $('name').value.trim();
    if (!USER_ID.test(name)) return showError($('signin-error'), 'A name is 1 to 64 letters, digits or _ . : @ - (no spaces).');
    showError($('signin-error'), '');
    $('signin').querySelector('button').disabled = true;
    try {
      await fetchToken(name); // fails here, in words, rather than in a page that never connects
      localStorage.setItem(SESSION, JSON.stringify({ user: name }));
      start(name);
    } catch (err) {
      showError($('signin-error'), err.message);
    } finally {
      $('signin').querySelector('button').disabled = false;
    }
  };

  $('signout').onclick = () => {
    stop();
    localStorage.removeItem(SESSION);
    for (const key of ['cursor', 'known', 'outbox']) localStorage.removeItem(`chat.${key}.${state.me}`);
    state.me = ''; // nothing more is kept for this user
    location.hash = '';
    location.reload();
  };

  try {
    const session = JSON.parse(localStorage.getItem(SESSION) ?? 'null');
    if (session && USER_ID.test(session.user)) start(session.user);
  } catch {
    localStorage.removeItem(SESSION);
  }
}
