// The projections: per partition stream, last seq, checkpoint and lag; the last rebuild
// this API process ran, and a button that starts one and follows it to the end.
import { admin, seg } from './api.js';
import { clearError, clockNow, count, errorBox, h, seconds, showError, table, when } from './dom.js';

const EVERY_MS = 2000;
const REBUILDING_EVERY_MS = 500;
const STATES = {
  building: 'building a fresh copy from the log',
  catching_up: 'catching up with the live projector',
  swapping: 'swapping the fresh copy in',
  done: 'done',
  failed: 'failed',
};
const finished = (r) => !r || r.state === 'done' || r.state === 'failed';

let shown = false;
let timer = null;
let latest = null;
/** Projections whose rebuild confirmation is open: kept across refreshes. */
const confirming = new Set();
/** Rebuild errors in words, kept across refreshes until the next try. */
const rebuildErrors = new Map();

const result = () => document.getElementById('projections-result');
const slot = () => document.getElementById('projections-error');

export function showProjections() {
  shown = true;
  refresh();
}

export function hideProjections() {
  shown = false;
  clearTimeout(timer);
}

async function refresh() {
  clearTimeout(timer);
  try {
    latest = await admin('/v1/admin/projections');
    clearError(slot());
    render();
    document.getElementById('projections-updated').textContent = clockNow();
  } catch (err) {
    showError(slot(), err);
  }
  if (!shown) return;
  const running = latest && latest.projections.some((p) => !finished(p.rebuild));
  timer = setTimeout(refresh, running ? REBUILDING_EVERY_MS : EVERY_MS);
}

function render() {
  result().replaceChildren(...latest.projections.map(projection));
}

function projection(p) {
  const lag = p.partitions.reduce((sum, x) => sum + x.lagEvents, 0);
  const oldest = p.partitions.reduce((max, x) => Math.max(max, x.lagSeconds), 0);
  return h('section', { class: 'part projection', dataset: { projection: p.name } },
    h('h2', {}, 'Projection ', h('code', {}, p.name)),
    h('p', { class: 'lag-summary', id: 'lag-summary-' + p.name },
      lag === 0 ? 'Up to date: no event waits to be projected.' : lag + ' ' + (lag === 1 ? 'event waits' : 'events wait') + ' to be projected; the oldest for ' + seconds(oldest) + '.'),
    table([
      { label: 'Partition', cell: (x) => String(x.partition), num: true },
      { label: 'Stream', cell: (x) => h('code', {}, x.stream) },
      { label: 'Last seq', cell: (x) => count(x.lastSeq), num: true },
      { label: 'Checkpoint', cell: (x) => count(x.checkpoint), num: true },
      { label: 'Lag (events)', cell: (x) => count(x.lagEvents), num: true },
      { label: 'Lag (seconds)', cell: (x) => seconds(x.lagSeconds), num: true },
    ], p.partitions, { id: 'partitions-' + p.name }),
    rebuildPart(p),
  );
}

function rebuildPart(p) {
  const r = p.rebuild;
  const running = !finished(r);
  const part = h('div', { class: 'rebuild', id: 'rebuild-' + p.name }, h('h3', {}, 'Rebuild'));
  if (r) {
    const total = Math.max(r.total, 1);
    const value = r.state === 'done' ? total : Math.min(r.applied, total);
    part.append(
      h('p', { class: 'rebuild-state' }, running ? 'Rebuild running: ' : 'Last rebuild: ', h('b', { class: 'state ' + r.state }, STATES[r.state] || r.state), r.error ? ' — ' + r.error : ''),
      h('progress', { max: String(total), value: String(value), 'aria-label': 'rebuild progress' }),
      h('p', { class: 'rebuild-figures' },
        count(r.applied) + ' of ' + count(r.total) + ' events replayed, ' + count(r.eventsPerSecond) + ' events/s; started ', when(r.startedAt),
        r.finishedAt ? [', finished ', when(r.finishedAt)] : '', '.'),
    );
  } else {
    part.append(h('p', { class: 'hint' }, 'This API process has run no rebuild since it started.'));
  }
  const error = rebuildErrors.get(p.name);
  if (error) part.append(errorBox(error));
  if (confirming.has(p.name) && !running) {
    part.append(h('div', { class: 'confirm', role: 'group', 'aria-label': 'confirm the rebuild' },
      h('p', {}, 'A rebuild replays every event of every partition into a fresh copy of the tables, catches up with the live projector, then swaps the copy in. It reads the whole log: on a large deployment, hours.'),
      h('button', { type: 'button', class: 'danger rebuild-start', onclick: () => start(p.name) }, 'Start the rebuild'),
      h('button', { type: 'button', class: 'rebuild-cancel', onclick: () => { confirming.delete(p.name); render(); } }, 'Cancel'),
    ));
  } else {
    part.append(h('button', {
      // Classes, not ids: each projection has its own (the part's id names the projection).
      type: 'button', class: 'rebuild-button', disabled: running,
      onclick: () => { confirming.add(p.name); rebuildErrors.delete(p.name); render(); },
    }, running ? 'Rebuilding…' : 'Rebuild ' + p.name + '…'));
  }
  return part;
}

async function start(name) {
  confirming.delete(name);
  rebuildErrors.delete(name);
  try {
    const { rebuild } = await admin('/v1/admin/projections/' + seg(name) + '/rebuild', { method: 'POST' });
    const p = latest && latest.projections.find((x) => x.name === name);
    if (p) p.rebuild = rebuild;
  } catch (err) {
    rebuildErrors.set(name, err);
  }
  if (latest) render();
  if (shown) refresh();
}
