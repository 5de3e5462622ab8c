// Small DOM helpers: every text goes in through textContent, never as HTML.

export const $ = (id) => document.getElementById(id);

/** `h('li', { class: 'x', onclick }, 'text', child)`: an element with attributes, listeners and children. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

/** Shows `text` in an error line (hidden when empty). */
export function showError(el, text) {
  el.textContent = text ?? '';
  el.hidden = !text;
}
