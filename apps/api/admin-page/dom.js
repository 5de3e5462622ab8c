// Small DOM and formatting helpers. Text from the server (names, message bodies) only ever
// goes in as text nodes, never as HTML.

/** `h('td', { class: 'num' }, 'text', childNode, ...)`; `on*` attributes take functions. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'hidden') el.hidden = true;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An error in words where the thing that failed would have been; `role=alert` reads it out. */
export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, err && err.message ? err.message : String(err));
}

export function showError(slot, err) {
  slot.replaceChildren(errorBox(err));
  slot.hidden = false;
}

export function clearError(slot) {
  slot.replaceChildren();
  slot.hidden = true;
}

/**
 * A table that scrolls sideways inside its box on narrow screens.
 * `columns`: [{ label, cell(row) -> text | Node, num? }].
 */
export function table(columns, rows, attrs = {}) {
  const body = h('tbody');
  const t = h('table', attrs, h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : undefined }, c.label)))), body);
  addRows(t, columns, rows);
  return h('div', { class: 'table-wrap' }, t);
}

export function addRows(tableOrWrap, columns, rows) {
  const body = tableOrWrap.querySelector('tbody');
  for (const row of rows) body.append(h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : undefined, 'data-label': c.label }, c.cell(row)))));
}

/**
 * A list paged by the admin API's `next` cursor: the first page at once, then a "Show more"
 * button while the server says there is more. `load(cursor)` resolves with `{ rows, next }`;
 * a failure is shown in the list's place.
 */
export async function pagedTable({ columns, load, empty, noun, tableAttrs }) {
  const box = h('div', { class: 'paged' });
  const count = h('p', { class: 'count' });
  const slot = h('div', { class: 'error-slot', hidden: true });
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show more');
  let wrap = null;
  let shown = 0;
  let next;
  const page = async () => {
    more.disabled = true;
    let result;
    try {
      result = await load(next);
    } catch (err) {
      // In place: a first page that failed leaves only the error; a later one keeps what is shown.
      showError(slot, err);
      count.hidden = !wrap;
      more.disabled = false;
      return;
    }
    next = result.next;
    if (!wrap) {
      wrap = table(columns, result.rows, tableAttrs);
      box.insertBefore(wrap, slot);
    } else addRows(wrap, columns, result.rows);
    shown += result.rows.length;
    clearError(slot);
    wrap.hidden = shown === 0;
    count.hidden = false;
    count.textContent = shown === 0 ? empty : shown + ' ' + noun(shown) + (next ? ' shown; there are more' : '');
    more.hidden = !next;
    more.disabled = false;
  };
  more.addEventListener('click', () => page());
  box.append(count, slot, more);
  await page();
  return box;
}

export const plural = (one, many) => (n) => (n === 1 ? one : many);

// --- formatting ---------------------------------------------------------------

const pad2 = (n) => String(n).padStart(2, '0');

/** An ISO time as the local `YYYY-MM-DD hh:mm:ss`, in a <time> element carrying the ISO text. */
export function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const text = d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  return h('time', { datetime: d.toISOString() }, text);
}

export function clockNow() {
  const d = new Date();
  return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
}

export function count(n) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
}

export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  if (n < 1024) return n + ' B';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return (v >= 100 ? Math.round(v) : v.toFixed(1)) + ' ' + units[u];
}

export function seconds(s) {
  if (typeof s !== 'number' || !Number.isFinite(s)) return '–';
  return s < 10 ? s.toFixed(1) + ' s' : Math.round(s).toLocaleString('en-US') + ' s';
}
