// Files for the next message: picked with the paperclip or dropped on the conversation, each
// uploaded at once (straight to S3 through the SDK, its progress shown), previewed when it is
// an image, and sent with the message. A failed upload stays in place with its reason, to
// retry or remove; uploads never sent are deleted by the server after a day.
import { $, h, icon } from './dom.js';
import { errorText, sizeOf } from './format.js';
import { isImage } from './files.js';
import { state } from './store.js';

/** docs/protocol.md: at most 10 attachments a message. */
const MAX_FILES = 10;

let chat;
let onChange = () => {};
/** { key, conversationId, file, preview?, status: 'uploading'|'ready'|'failed', sent, total, attachment?, error? } */
const tray = [];
let note = '';
let keys = 0;

export function initAttach(client, changed) {
  chat = client;
  onChange = changed;
  const input = $('file');
  $('attach').replaceChildren(icon('paperclip', 20));
  $('attach').onclick = () => input.click();
  input.onchange = () => {
    addFiles([...input.files]);
    input.value = '';
  };
  const zone = $('main-col');
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  zone.addEventListener('dragover', (e) => {
    if (!state.open || !hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    zone.classList.add('dropping');
  });
  zone.addEventListener('dragleave', (e) => {
    if (!zone.contains(e.relatedTarget)) zone.classList.remove('dropping');
  });
  zone.addEventListener('drop', (e) => {
    zone.classList.remove('dropping');
    if (!state.open || !hasFiles(e)) return;
    e.preventDefault();
    addFiles([...e.dataTransfer.files]);
  });
}

export function addFiles(files) {
  note = '';
  for (const file of files) {
    if (tray.length >= MAX_FILES) {
      note = `At most ${MAX_FILES} files a message.`;
      break;
    }
    const item = {
      key: ++keys, conversationId: state.open, file, status: 'uploading', sent: 0, total: file.size,
      ...(isImage(file.type) && { preview: URL.createObjectURL(file) }),
    };
    tray.push(item);
    upload(item);
  }
  onChange();
}

function upload(item) {
  Object.assign(item, { status: 'uploading', sent: 0, error: undefined });
  chat.upload(item.conversationId, item.file, {
    onProgress: (sent, total) => {
      Object.assign(item, { sent, total });
      renderTray();
    },
  }).then(
    (attachment) => Object.assign(item, { status: 'ready', attachment }),
    (error) => Object.assign(item, { status: 'failed', error }),
  ).finally(onChange);
}

function remove(item) {
  const i = tray.indexOf(item);
  if (i >= 0) tray.splice(i, 1);
  if (item.preview) URL.revokeObjectURL(item.preview);
  onChange();
}

/**
 * What the next send takes: `{ attachments }` when every file is uploaded, `{ wait }` with
 * words to show while one is still uploading or has failed.
 */
export function readyFiles() {
  if (tray.some((i) => i.status === 'uploading')) return { wait: 'Wait until the files are uploaded.' };
  if (tray.some((i) => i.status === 'failed')) return { wait: 'Retry or remove the file that did not upload.' };
  return { attachments: tray.map((i) => i.attachment) };
}

/** Sent, or another conversation opened: the tray starts empty. */
export function clearTray() {
  for (const item of tray.splice(0)) if (item.preview) URL.revokeObjectURL(item.preview);
  note = '';
}

export function renderTray() {
  const el = $('tray');
  el.hidden = tray.length === 0 && !note;
  el.replaceChildren(...tray.map((item) => {
    const failed = item.status === 'failed';
    const percent = item.total ? Math.round((100 * item.sent) / item.total) : 100;
    return h('li', { class: `upload ${item.status}`, dataset: { key: String(item.key) } },
      item.preview ? h('img', { class: 'thumb', src: item.preview, alt: '' }) : h('span', { class: 'thumb doc' }, icon('file', 22)),
      h('div', { class: 'upload-info' },
        h('span', { class: 'file-name' }, item.file.name),
        item.status === 'uploading' && h('progress', { max: 100, value: percent, 'aria-label': `Uploading ${item.file.name}` }),
        h('span', { class: failed ? 'failure' : 'file-size' },
          failed ? `Upload failed: ${errorText(item.error)}` : item.status === 'uploading' ? `${percent}% of ${sizeOf(item.total)}` : sizeOf(item.file.size))),
      failed && h('button', { type: 'button', class: 'retry', onclick: () => {
        upload(item);
        onChange();
      } }, 'Retry'),
      h('button', { type: 'button', class: 'quiet remove', title: `Remove ${item.file.name}`, 'aria-label': `Remove ${item.file.name}`, onclick: () => remove(item) }, '✕'));
  }), ...(note ? [h('li', { class: 'error', role: 'alert' }, note)] : []));
}
