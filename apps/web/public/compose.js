// Writing: Enter sends, Shift+Enter starts a new line, Up edits one's last message, Escape
// drops a reply. A send shows at once (the SDK's outbox) and waits there while offline.
import { $, showError } from './dom.js';
import { snippet } from './format.js';
import { messagesOf, state } from './store.js';
import { startEdit, toBottom, ui } from './thread.js';

const MAX_BODY_BYTES = 16 * 1024;

let chat;
let onChange = () => {};

export function initCompose(client, changed) {
  chat = client;
  onChange = changed;
}

/** The box grows with its text (up to a few lines); empty, it is one line again. */
function grow() {
  const t = $('text');
  if (!t.value) {
    t.style.height = '';
    return;
  }
  t.style.height = 'auto';
  t.style.height = `${Math.min(t.scrollHeight + 2, 140)}px`;
}

function send() {
  const id = state.open;
  const body = $('text').value.trim();
  if (!id || !body) return;
  if (new TextEncoder().encode(body).length > MAX_BODY_BYTES) {
    return showError($('compose-error'), 'That message is too long: at most 16 KB of text.');
  }
  showError($('compose-error'), '');
  const replyToSeq = ui.replyTo ?? undefined;
  ui.replyTo = null;
  $('text').value = '';
  grow();
  toBottom();
  // Refusals show on the message itself (the outbox entry turns `failed`).
  chat.send(id, body, replyToSeq ? { replyToSeq } : {}).catch(() => undefined);
  onChange();
}

$('compose').onsubmit = (e) => {
  e.preventDefault();
  send();
};

$('text').oninput = () => {
  grow();
  if (state.open && $('text').value.trim()) chat?.keystroke(state.open);
};

$('text').onkeydown = (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  } else if (e.key === 'ArrowUp' && $('text').value === '' && state.open) {
    const last = [...messagesOf(state.open).values()].filter((m) => m.senderId === state.me && !m.deleted).sort((a, b) => b.seq - a.seq)[0];
    if (last) {
      e.preventDefault();
      startEdit(last);
    }
  } else if (e.key === 'Escape' && ui.replyTo) {
    ui.replyTo = null;
    onChange();
  }
};

$('reply-cancel').onclick = () => {
  ui.replyTo = null;
  onChange();
  $('text').focus();
};

export function renderCompose() {
  $('compose').hidden = !state.open;
  const target = ui.replyTo && messagesOf(state.open).get(ui.replyTo);
  $('replying').hidden = !target;
  if (target) $('replying-text').textContent = `Replying to ${target.senderId === state.me ? 'yourself' : target.senderId}: ${snippet(target.body, 60)}`;
}

export function clearCompose() {
  $('text').value = '';
  showError($('compose-error'), '');
  grow();
}
