// Mentions: the `@` autocomplete of a composer (from the conversation's members, by keyboard
// or click), and the mentions of a message drawn as such.
import { mentionAt } from '/sdk/index.js';
import { h } from './dom.js';
import { state } from './store.js';

/** Names offered at once: enough to pick from, few enough to read. */
const SHOWN = 8;

/**
 * Attaches an autocomplete to `text` (a textarea in a positioned form). `members()` lists
 * who can be mentioned. The composer asks `key(e)` first on every keydown: true when the
 * menu took the key (arrows move, Enter or Tab picks, Escape closes).
 */
export function autocomplete(text, members) {
  const menu = h('ul', { class: 'mention-menu', role: 'listbox', id: `${text.id}-mentions`, 'aria-label': 'Mention someone', hidden: true });
  text.closest('form').append(menu);
  text.setAttribute('aria-autocomplete', 'list');
  text.setAttribute('aria-controls', menu.id);
  const at = { items: [], active: 0, start: 0, query: '' };
  const open = () => !menu.hidden;

  function close() {
    menu.hidden = true;
    text.removeAttribute('aria-activedescendant');
    text.setAttribute('aria-expanded', 'false');
  }

  function update() {
    const found = text.selectionStart === text.selectionEnd ? mentionAt(text.value, text.selectionStart) : undefined;
    if (!found) return close();
    const q = found.query.toLowerCase();
    const names = members().filter((u) => u !== state.me);
    const starts = names.filter((u) => u.toLowerCase().startsWith(q)).sort();
    const inside = names.filter((u) => !u.toLowerCase().startsWith(q) && u.toLowerCase().includes(q)).sort();
    const items = [...starts, ...inside].slice(0, SHOWN);
    if (items.length === 0) return close();
    if (found.start !== at.start || items.join() !== at.items.join()) at.active = 0;
    Object.assign(at, { items, start: found.start, query: found.query });
    draw();
  }

  function draw() {
    menu.replaceChildren(...at.items.map((u, i) => h('li', {
      role: 'option', id: `${menu.id}-${i}`, class: i === at.active ? 'active' : '', 'aria-selected': i === at.active ? 'true' : 'false',
      // Keeps the focus (and the caret) in the box.
      onmousedown: (e) => e.preventDefault(),
      onclick: () => pick(u),
    }, h('span', { class: `dot${state.presence.get(u) === 'online' ? ' online' : ''}` }), `@${u}`)));
    menu.hidden = false;
    text.setAttribute('aria-expanded', 'true');
    text.setAttribute('aria-activedescendant', `${menu.id}-${at.active}`);
  }

  /** `@que|` becomes `@member |`, the caret after the space. */
  function pick(u) {
    const caret = text.selectionStart;
    const before = text.value.slice(0, at.start);
    const after = text.value.slice(caret).replace(/^\S*/, '');
    const inserted = `@${u} `;
    text.value = `${before}${inserted}${after.startsWith(' ') ? after.slice(1) : after}`;
    const end = before.length + inserted.length;
    text.setSelectionRange(end, end);
    close();
    text.focus();
    text.dispatchEvent(new Event('input')); // the composer grows, and says "typing"
  }

  text.addEventListener('input', update);
  text.addEventListener('click', update);
  text.addEventListener('keyup', (e) => ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) && update());
  text.addEventListener('blur', close);

  return {
    close,
    key(e) {
      if (!open() || e.isComposing) return false;
      const n = at.items.length;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') at.active = (at.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      // Enter on a name typed out in full sends: the mention is there already (Tab still adds the space).
      else if (e.key === 'Enter' && at.items[at.active] === at.query) {
        close();
        return false;
      } else if (e.key === 'Enter' || e.key === 'Tab') pick(at.items[at.active]);
      else if (e.key === 'Escape') close();
      else return false;
      e.preventDefault();
      if (open()) draw();
      return true;
    },
  };
}

const ID_CHAR = /[A-Za-z0-9_.:@-]/;

/**
 * A message's body with the users it mentions (its `mentions`, from the server) marked: an
 * `@id` not inside a longer word; the user's own name stands out. Text only, no HTML.
 */
export function bodyWithMentions(m) {
  const ids = [...new Set(m.mentions ?? [])].sort((a, b) => b.length - a.length);
  if (ids.length === 0) return m.body;
  const parts = [];
  let from = 0;
  for (let i = m.body.indexOf('@'); i >= 0; i = m.body.indexOf('@', i + 1)) {
    if (i < from || (i > 0 && ID_CHAR.test(m.body[i - 1]))) continue;
    const id = ids.find((u) => m.body.startsWith(u, i + 1) && !/[A-Za-z0-9_]/.test(m.body[i + 1 + u.length] ?? ''));
    if (!id) continue;
    parts.push(m.body.slice(from, i), h('span', { class: `mention${id === state.me ? ' me' : ''}`, title: id === state.me ? 'mentions you' : id }, `@${id}`));
    from = i + 1 + id.length;
  }
  parts.push(m.body.slice(from));
  return parts.filter((p) => p !== '');
}
