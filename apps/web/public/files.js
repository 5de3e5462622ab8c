// Files in messages: images as previews, everything else as a download link. The bytes come
// from S3 through a presigned URL (attachment:url, valid 15 minutes), asked for once per file
// and asked again shortly before it expires.
import { h, icon } from './dom.js';
import { errorText, sizeOf } from './format.js';

let chat;
let onChange = () => {};
/** attachment id -> { url, until } once known, { loading: true } while asked, { error, until } if refused. */
const links = new Map();
const MARGIN_MS = 60_000;
const RETRY_MS = 10_000;

export function initFiles(client, changed) {
  chat = client;
  onChange = changed;
}

export const isImage = (contentType) => /^image\/(png|jpe?g|gif|webp|avif|bmp)$/i.test(contentType);

function linkOf(conversationId, a) {
  const known = links.get(a.id);
  if (known && (known.loading || known.until - MARGIN_MS > Date.now())) return known;
  links.set(a.id, { loading: true });
  chat.request('attachment:url', { conversationId, attachmentId: a.id }).then(
    ({ url, expiresAt }) => links.set(a.id, { url, until: Date.parse(expiresAt) }),
    // Asked again after a while: the server may have been unavailable for a moment.
    (error) => links.set(a.id, { error, until: Date.now() + MARGIN_MS + RETRY_MS }),
  ).finally(onChange);
  return links.get(a.id);
}

/** The files of a message, in the order sent; null for a message without any. */
export function filesOf(m) {
  if (!m.attachments?.length || m.deleted) return null;
  return h('div', { class: 'files' }, m.attachments.map((a) => {
    const link = linkOf(m.conversationId, a);
    const label = [h('span', { class: 'file-name' }, a.name), h('span', { class: 'file-size' }, sizeOf(a.size))];
    if (link.error) return h('div', { class: 'file unavailable', title: errorText(link.error) }, ...label, h('span', { class: 'file-size' }, 'unavailable'));
    if (!link.url) return h('div', { class: 'file loading', 'aria-busy': 'true' }, ...label);
    const stop = (e) => e.stopPropagation();
    if (isImage(a.contentType)) {
      return h('a', { class: 'image', href: link.url, target: '_blank', rel: 'noopener', title: `${a.name} (${sizeOf(a.size)})`, onclick: stop },
        h('img', { src: link.url, alt: a.name, loading: 'lazy' }));
    }
    return h('a', { class: 'file', href: link.url, download: a.name, rel: 'noopener', title: `Download ${a.name}`, onclick: stop }, icon('download', 14), ...label);
  }));
}
