// Writing, in the conversation and in the thread panel alike: Enter sends, Shift+Enter starts
// a new line, Up edits one's last message there, Escape drops a reply (or closes the thread),
// `@` offers the members. A send shows at once (the SDK's outbox) and waits there while offline.
import { mentionsIn } from '/sdk/index.js';
import { clearTray, readyFiles, renderTray } from './attach.js';
import { $, showError } from './dom.js';
import { snippet } from './format.js';
import { autocomplete } from './mention.js';
import { messagesOf, othersIn, repliesTo, state, timelineOf } from './store.js';
import { startEdit, toBottom, ui } from './thread.js';

const MAX_BODY_BYTES = 16 * 1024;

let chat;
let onChange = () => {};
const composers = [];

/** `threadDown()`: the thread panel's next render ends at its latest reply; `closeThread()` on Escape there. */
export function initCompose(client, changed, { threadDown, closeThread }) {
  chat = client;
  onChange = changed;
  composers.push(
    composer({ form: $('compose'), text: $('text'), error: $('compose-error'), root: () => undefined, down: toBottom }),
    composer({ form: $('thread-compose'), text: $('thread-text'), error: $('thread-error'), root: () => ui.thread ?? undefined, down: threadDown, escape: closeThread }),
  );
}

/** Who can be mentioned: the members known (all of them in groups up to 20, or from events). */
const members = () => [...othersIn(state.open)].sort();

function composer({ form, text, error, root, down, escape }) {
  const menu = autocomplete(text, members);

  /** The box grows with its text (up to a few lines); empty, it is one line again. */
  function grow() {
    if (!text.value) {
      text.style.height = '';
      return;
    }
    text.style.height = 'auto';
    text.style.height = `${Math.min(text.scrollHeight + 2, 140)}px`;
  }

  function send() {
    const id = state.open;
    const body = text.value.trim();
    const threadRootSeq = root();
    // Files go with messages of the conversation (the thread panel has no tray).
    const files = threadRootSeq === undefined ? readyFiles() : { attachments: [] };
    if (files.wait) return showError(error, files.wait);
    const attachments = files.attachments;
    if (!id || (!body && attachments.length === 0)) return;
    if (new TextEncoder().encode(body).length > MAX_BODY_BYTES) {
      return showError(error, 'That message is too long: at most 16 KB of text.');
    }
    showError(error, '');
    const replyToSeq = threadRootSeq === undefined ? ui.replyTo ?? undefined : undefined;
    if (threadRootSeq === undefined) ui.replyTo = null;
    // Whoever is written as @name, picked from the menu or typed out, is mentioned.
    const mentions = mentionsIn(body, state.members.get(id) ?? []);
    text.value = '';
    if (attachments.length > 0) clearTray();
    grow();
    down();
    // Refusals show on the message itself (the outbox entry turns `failed`).
    chat.send(id, body, {
      ...(replyToSeq && { replyToSeq }), ...(threadRootSeq !== undefined && { threadRootSeq }), ...(mentions.length > 0 && { mentions }),
      ...(attachments.length > 0 && { attachments }),
    }).catch(() => undefined);
    onChange();
  }

  form.onsubmit = (e) => {
    e.preventDefault();
    send();
  };

  text.oninput = () => {
    grow();
    if (state.open && text.value.trim()) chat?.keystroke(state.open);
  };

  text.onkeydown = (e) => {
    if (menu.key(e)) return;
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    } else if (e.key === 'ArrowUp' && text.value === '' && state.open) {
      const r = root();
      const mine = (r === undefined ? timelineOf(state.open) : repliesTo(state.open, r)).filter((m) => m.senderId === state.me && !m.deleted);
      const last = mine.at(-1);
      if (last) {
        e.preventDefault();
        startEdit(last);
      }
    } else if (e.key === 'Escape' && root() === undefined && ui.replyTo) {
      ui.replyTo = null;
      onChange();
    } else if (e.key === 'Escape' && root() !== undefined && text.value === '') {
      escape?.();
    }
  };

  return {
    clear() {
      text.value = '';
      showError(error, '');
      menu.close();
      grow();
    },
  };
}

$('reply-cancel').onclick = () => {
  ui.replyTo = null;
  onChange();
  $('text').focus();
};

export function renderCompose() {
  $('compose').hidden = !state.open;
  renderTray();
  const target = ui.replyTo && messagesOf(state.open).get(ui.replyTo);
  $('replying').hidden = !target;
  if (target) $('replying-text').textContent = `Replying to ${target.senderId === state.me ? 'yourself' : target.senderId}: ${snippet(target.body, 60)}`;
}

/** Another conversation opened: both boxes start empty. */
export function clearCompose() {
  for (const c of composers) c.clear();
  clearTray();
}

/** The thread panel opened on another root: its box starts empty. */
export function clearThreadCompose() {
  composers[1]?.clear();
}
