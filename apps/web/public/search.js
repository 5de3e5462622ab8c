// Message search in the sidebar: Enter searches, the hits replace the conversation list
// until the box is cleared (or Escape), and a hit opens its conversation at the message.
import { $, h, showError } from './dom.js';
import { errorText, listTime } from './format.js';
import { conversationName, state } from './store.js';

let chat;
let jump = async () => {};
/** The search shown: its query, hits and the cursor of the next page. */
const shown = { query: '', hits: [], next: undefined, busy: false };

export function initSearch(client, jumpTo) {
  chat = client;
  jump = jumpTo;
  $('search').onsubmit = (e) => {
    e.preventDefault();
    void run($('search-query').value.trim(), false);
  };
  $('search-query').oninput = () => $('search-query').value === '' && close();
  $('search-query').onkeydown = (e) => {
    if (e.key !== 'Escape') return;
    $('search-query').value = '';
    close();
  };
  $('search-more').onclick = () => void run(shown.query, true);
}

export const searching = () => !$('search-results').hidden;

function close() {
  Object.assign(shown, { query: '', hits: [], next: undefined });
  $('search-results').hidden = true;
  $('conversations').hidden = false;
  showError($('search-error'), '');
}

async function run(query, more) {
  if (!query) return close();
  if (shown.busy) return;
  shown.busy = true;
  showError($('search-error'), '');
  try {
    const page = await chat.search(query, { limit: 20, ...(more && shown.next && { before: shown.next }) });
    Object.assign(shown, { query, hits: more ? [...shown.hits, ...page.hits] : page.hits, next: page.next });
  } catch (err) {
    if (!more) Object.assign(shown, { query, hits: [], next: undefined });
    showError($('search-error'), err.code === 'BAD_REQUEST' ? 'Type a word to search for (a quoted "phrase", or -word to leave one out).' : errorText(err));
  } finally {
    shown.busy = false;
  }
  draw();
}

/** The query's words, to mark in each hit (the server matched them whole, any case). */
function wordsOf(query) {
  return [...new Set(query.toLowerCase().split(/[^\p{L}\p{N}_]+/u).filter((w) => w && w !== 'or'))].filter((w) => !query.toLowerCase().includes(`-${w}`));
}

function marked(body, words) {
  const text = body.replace(/\s+/g, ' ').trim();
  if (words.length === 0) return [text];
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])(${escaped.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    parts.push(text.slice(last, m.index), h('mark', {}, m[0]));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

function draw() {
  const words = wordsOf(shown.query);
  $('hits').replaceChildren(...shown.hits.map((m) => {
    const c = state.conversations.get(m.conversationId);
    return h('li', {
      class: 'hit',
      dataset: { conversation: m.conversationId, seq: String(m.seq) },
      tabindex: '0',
      onclick: () => void jump(m),
      onkeydown: (e) => e.key === 'Enter' && void jump(m),
    },
    h('span', { class: 'name' }, c ? conversationName(c) : 'A conversation you left'),
    h('span', { class: 'when' }, listTime(m.sentAt)),
    h('span', { class: 'preview' }, m.senderId === state.me ? 'You: ' : c?.type === 'group' ? `${m.senderId}: ` : '', ...marked(m.body, words)));
  }));
  const n = shown.hits.length;
  $('search-status').textContent = n === 0 ? (shown.query ? `No messages match “${shown.query}”.` : '') : `${n}${shown.next ? '+' : ''} ${n === 1 ? 'message' : 'messages'}`;
  $('search-more').hidden = !shown.next;
  $('search-results').hidden = false;
  $('conversations').hidden = true;
  $('empty-list').hidden = true;
}
