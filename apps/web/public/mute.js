// The notification menu of the open conversation: all messages, mentions only or nothing,
// and a mute for an hour or until tomorrow morning. The setting is the user's, on every
// device: a change made in another tab arrives as a `notify` event and shows here.
import { $, h, icon, showError } from './dom.js';
import { errorText, timeOf } from './format.js';
import { notifyOf, state } from './store.js';

/** "Until tomorrow" ends at this hour of the next day, local time. */
const MORNING_HOUR = 8;
const LEVELS = { all: 'All messages', mentions: 'Mentions only', none: 'Nothing' };

let chat;
let onChange = () => {};
let expiry;

export function initMute(client, changed) {
  chat = client;
  onChange = changed;
  $('notify-toggle').onclick = (e) => {
    e.stopPropagation();
    setMenu($('notify-menu').hidden);
  };
  $('notify-menu').onclick = (e) => {
    e.stopPropagation();
    const b = e.target.closest('button');
    if (b?.dataset.level) void choose(b.dataset.level, 'keep');
    else if (b?.dataset.mute) void choose(undefined, b.dataset.mute);
  };
  document.addEventListener('click', () => !$('notify-menu').hidden && setMenu(false));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('notify-menu').hidden) {
      setMenu(false);
      $('notify-toggle').focus();
    }
  });
}

function setMenu(open) {
  $('notify-menu').hidden = !open;
  showError($('notify-error'), '');
  onChange();
  if (open) $('notify-menu').querySelector('[aria-checked="true"]')?.focus();
}

export function closeMute() {
  $('notify-menu').hidden = true;
  showError($('notify-error'), '');
}

/** The time `mute` ends: in an hour, or tomorrow morning; 'keep' the mute there is, 'off' none. */
export function muteEnd(mute, current, now = new Date()) {
  if (mute === 'hour') return new Date(now.getTime() + 3_600_000).toISOString();
  if (mute === 'tomorrow') {
    const t = new Date(now);
    t.setDate(t.getDate() + 1);
    t.setHours(MORNING_HOUR, 0, 0, 0);
    return t.toISOString();
  }
  return mute === 'keep' ? current : undefined;
}

/** A level keeps the mute that runs; a mute keeps the level. */
async function choose(level, mute) {
  const id = state.open;
  const c = state.conversations.get(id);
  if (!c) return;
  const now = notifyOf(c);
  try {
    await chat.setNotify(id, level ?? now.level, muteEnd(mute, now.mutedUntil));
    setMenu(false);
  } catch (err) {
    showError($('notify-error'), errorText(err));
  }
}

/** "15:04", or "tomorrow 08:00", or the date, for when a mute ends. */
export function untilText(iso, now = new Date()) {
  const d = new Date(iso);
  const days = Math.round((new Date(d).setHours(0, 0, 0, 0) - new Date(now).setHours(0, 0, 0, 0)) / 86_400_000);
  if (days === 0) return timeOf(iso);
  if (days === 1) return `tomorrow ${timeOf(iso)}`;
  return `${d.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' })} ${timeOf(iso)}`;
}

/** What the setting reads as in the list and the menu's button. */
export function notifyLabel(c) {
  const n = notifyOf(c);
  if (n.mutedUntil) return `Muted until ${untilText(n.mutedUntil)}`;
  return n.level === 'all' ? 'Notifications: all messages' : n.level === 'mentions' ? 'Notifications: mentions only' : 'Notifications: nothing';
}

export function renderMute() {
  const c = state.open && state.conversations.get(state.open);
  $('notify').hidden = !c;
  watchExpiry();
  if (!c) return closeMute();
  const n = notifyOf(c);
  const silent = Boolean(n.mutedUntil) || n.level === 'none';
  const toggle = $('notify-toggle');
  toggle.replaceChildren(icon(silent ? 'bell-off' : 'bell'), n.level === 'mentions' && !silent ? h('span', { class: 'at' }, '@') : '');
  toggle.title = notifyLabel(c);
  toggle.setAttribute('aria-label', notifyLabel(c));
  toggle.setAttribute('aria-expanded', String(!$('notify-menu').hidden));
  toggle.classList.toggle('silent', silent);
  $('notify-status').textContent = n.mutedUntil
    ? `Muted until ${untilText(n.mutedUntil)}: nothing notifies you.`
    : { all: 'Every message notifies you.', mentions: 'Only messages that mention you notify you.', none: 'Nothing notifies you.' }[n.level];
  for (const b of $('notify-menu').querySelectorAll('[data-level]')) {
    b.setAttribute('aria-checked', String(b.dataset.level === n.level));
    b.textContent = LEVELS[b.dataset.level];
  }
  $('notify-menu').querySelector('[data-mute="off"]').hidden = !n.mutedUntil;
}

/** A mute ends by itself: the page shows it when it does. */
function watchExpiry() {
  clearTimeout(expiry);
  const ends = [...state.conversations.values()].map((c) => notifyOf(c).mutedUntil).filter(Boolean).map((t) => Date.parse(t));
  if (ends.length === 0) return;
  const ms = Math.min(...ends) - Date.now() + 100;
  expiry = setTimeout(onChange, Math.max(100, Math.min(ms, 2 ** 31 - 1)));
}
