// The reports queue: what members reported, newest first, each with the reported message
// among the messages around it, and one click to act on it: delete the message, mute its
// author in the conversation (for a time), remove the author from it, or block the author
// everywhere. Each action is the admin API's, as the operator; its outcome is said in place.
import { admin, seg } from './api.js';
import { messageItem } from './conversation.js';
import { clearError, errorBox, h, showError, when } from './dom.js';

const PAGE = 20;
/** How long a mute from the queue lasts; the first is the default. */
const MUTES = [
  { label: 'for 24 hours', ms: 24 * 3_600_000 },
  { label: 'for 1 hour', ms: 3_600_000 },
  { label: 'for 7 days', ms: 7 * 24 * 3_600_000 },
  { label: 'until unmuted', ms: 0 },
];

const result = () => document.getElementById('reports-result');

let opens = { openConversation: () => undefined, openUser: () => undefined };
/** Only the latest load is shown. */
let loading = 0;

export function initReports(links) {
  opens = links;
  document.getElementById('reports-refresh').addEventListener('click', () => showReports());
}

/** The first page of the queue, and a button for the next while there are more. */
export async function showReports() {
  const mine = ++loading;
  const out = result();
  const list = h('ol', { class: 'reports', id: 'reports' });
  const count = h('p', { class: 'count', id: 'reports-count' });
  const more = h('button', { type: 'button', class: 'more', id: 'reports-more', hidden: true }, 'Older reports');
  const slot = h('div', { class: 'error-slot', hidden: true });
  let next;
  let shown = 0;
  const page = async () => {
    more.disabled = true;
    let answer;
    try {
      answer = await admin('/v1/admin/reports', { query: { limit: PAGE, context: 2, cursor: next } });
    } catch (err) {
      if (mine !== loading) return;
      if (shown === 0) out.replaceChildren(errorBox(err));
      else showError(slot, err);
      more.disabled = false;
      return;
    }
    if (mine !== loading) return;
    clearError(slot);
    for (const report of answer.reports) list.append(reportCard(report));
    shown += answer.reports.length;
    next = answer.next;
    count.textContent = shown === 0 ? 'No reports: nothing to look at.' : shown + (shown === 1 ? ' report' : ' reports') + ' shown' + (next ? '; there are older ones' : '') + '.';
    more.hidden = !next;
    more.disabled = false;
    if (!out.contains(list)) out.replaceChildren(count, list, slot, more);
  };
  more.addEventListener('click', () => page());
  if (!out.firstChild) out.replaceChildren(h('p', { class: 'loading' }, 'Loading reports…'));
  await page();
}

function reportCard(r) {
  const author = r.message ? r.message.senderId : undefined;
  const outcome = h('p', { class: 'outcome', role: 'status', hidden: true });
  const slot = h('div', { class: 'error-slot', hidden: true });
  const context = h('ol', { class: 'messages context' });
  const messages = new Map(r.context.map((m) => [m.seq, m]));
  const renderContext = () => {
    context.replaceChildren(...[...messages.values()].map((m) => {
      const item = messageItem(m);
      if (m.seq === r.targetSeq) {
        item.classList.add('reported');
        item.querySelector('.msg-head').append(h('span', { class: 'tag reported-tag' }, 'reported'));
      }
      return item;
    }));
    if (!messages.has(r.targetSeq)) context.append(h('li', { class: 'reported gone' }, h('div', { class: 'body deleted' }, 'The reported message #' + r.targetSeq + ' is no longer stored.')));
  };
  renderContext();

  const done = (text) => {
    clearError(slot);
    outcome.textContent = text;
    outcome.hidden = false;
  };
  /** One click: the button waits for the answer, then says what happened (or why not). */
  const act = (button, run) => async () => {
    button.disabled = true;
    try {
      done(await run());
    } catch (err) {
      showError(slot, err);
    } finally {
      button.disabled = false;
    }
  };
  const base = '/v1/admin/conversations/' + seg(r.conversationId);
  const deleted = () => messages.get(r.targetSeq)?.deleted === true;

  const del = h('button', { type: 'button', class: 'danger', dataset: { action: 'delete' } }, 'Delete message');
  del.addEventListener('click', act(del, async () => {
    const { seq } = await admin(base + '/messages/' + r.targetSeq, { method: 'DELETE' });
    const m = messages.get(r.targetSeq);
    if (m) messages.set(r.targetSeq, { ...m, body: '', deleted: true, reactions: undefined, editedAt: undefined });
    renderContext();
    del.hidden = true;
    return 'Message #' + r.targetSeq + ' deleted (seq ' + seq + '); members see it gone.';
  }));
  del.hidden = !r.message || deleted();

  const duration = h('select', { 'aria-label': 'How long to mute', dataset: { action: 'mute-for' } }, MUTES.map((d, i) => h('option', { value: String(i) }, d.label)));
  const mute = h('button', { type: 'button', dataset: { action: 'mute' } }, 'Mute author');
  mute.addEventListener('click', act(mute, async () => {
    const choice = MUTES[Number(duration.value)] || MUTES[0];
    const until = choice.ms ? new Date(Date.now() + choice.ms).toISOString() : undefined;
    await admin(base + '/members/' + seg(author) + '/mute', { method: 'POST', body: until ? { until } : {} });
    return author + ' muted in this conversation ' + (until ? 'until ' + when(until).textContent : 'until unmuted') + '.';
  }));

  const remove = h('button', { type: 'button', dataset: { action: 'remove' } }, 'Remove author');
  remove.addEventListener('click', act(remove, async () => {
    await admin(base + '/members/' + seg(author), { method: 'DELETE' });
    remove.hidden = true;
    return author + ' removed from the conversation.';
  }));

  const block = h('button', { type: 'button', class: 'danger', dataset: { action: 'block' } }, 'Block author');
  let blocked = false;
  block.addEventListener('click', act(block, async () => {
    await admin('/v1/admin/users/' + seg(author) + '/block', { method: blocked ? 'DELETE' : 'POST' });
    blocked = !blocked;
    block.textContent = blocked ? 'Unblock author' : 'Block author';
    block.className = blocked ? '' : 'danger';
    return blocked ? author + ' blocked: their connections are closed on every gateway and refused until unblocked.' : author + ' unblocked: they may connect again.';
  }));

  const actions = author === undefined
    ? h('p', { class: 'hint' }, 'The message is gone; nothing to act on.')
    : h('div', { class: 'actions' }, del, h('span', { class: 'mute-group' }, mute, duration), remove, block);

  return h('li', { class: 'report part', dataset: { report: r.conversationId + ':' + r.seq } },
    h('div', { class: 'report-head' },
      h('b', {}, 'Reported by '), h('button', { type: 'button', class: 'link id', onclick: () => opens.openUser(r.reportedBy) }, r.reportedBy),
      h('span', { class: 'sep' }, '·'), when(r.reportedAt),
      h('span', { class: 'sep' }, '·'), 'in ', h('button', { type: 'button', class: 'link id', onclick: () => opens.openConversation(r.conversationId) }, r.conversationId),
      author !== undefined ? [h('span', { class: 'sep' }, '·'), 'author ', h('button', { type: 'button', class: 'link id', onclick: () => opens.openUser(author) }, author)] : null,
    ),
    h('blockquote', { class: 'reason' }, r.reason),
    context,
    actions,
    outcome,
    slot,
  );
}
