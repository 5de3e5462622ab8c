// The admin API from the browser: the token typed in once is kept in sessionStorage (this
// tab, until it closes) and sent only as a bearer header, never in a URL.

const KEY = 'chat-admin-token';

export const adminToken = {
  get() {
    try {
      return sessionStorage.getItem(KEY) || '';
    } catch {
      return '';
    }
  },
  set(token) {
    sessionStorage.setItem(KEY, token);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

/** A failed call, with a sentence a person can act on; `status` is 0 when no answer came. */
export class AdminError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'AdminError';
    this.status = status;
  }
}

/** The server's own words from an error body: the contract's `error.message`, else Nest's `message`. */
function detailOf(body) {
  if (!body || typeof body !== 'object') return '';
  if (body.error && typeof body.error.message === 'string') return body.error.message;
  if (typeof body.message === 'string') return body.message;
  if (Array.isArray(body.message)) return body.message.join('; ');
  return '';
}

function sentence(text) {
  return text ? text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.') : '';
}

export function describeFailure(status, body) {
  const detail = detailOf(body);
  switch (status) {
    case 401:
      return 'The admin API needs the admin token: type it in above.';
    case 403:
      return 'The server refused this admin token (wrong token).';
    case 400:
      return 'The server refused the request: ' + (detail || 'a parameter is not valid') + '.';
    case 404:
      return sentence(detail) || 'Not found.';
    case 409:
      return sentence(detail) || 'The server refused: it is busy with the same work.';
    case 503:
      return 'The server could not answer: ' + (detail || 'a service it needs is unavailable') + '.';
    default:
      return 'The server answered ' + status + (detail ? ': ' + detail : '') + '.';
  }
}

let refused = () => undefined;

/** Called with the error whenever the server refuses the token (401 or 403). */
export function onTokenRefused(handler) {
  refused = handler;
}

/**
 * `GET` (or `POST`) an admin route; resolves with the JSON body, rejects with an AdminError.
 * `query` values left undefined are not sent.
 */
export async function admin(path, { method = 'GET', query = {} } = {}) {
  const token = adminToken.get();
  if (!token) throw new AdminError('No admin token yet: type it in above.', 401);
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
  let res;
  try {
    res = await fetch(url, { method, cache: 'no-store', headers: { authorization: 'Bearer ' + token, accept: 'application/json' } });
  } catch (err) {
    throw new AdminError('The server did not answer (' + (err && err.message ? err.message : String(err)) + '). Is it running?', 0);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  if (!res.ok) {
    const err = new AdminError(describeFailure(res.status, body), res.status);
    if (res.status === 401 || res.status === 403) refused(err);
    throw err;
  }
  return body;
}

/** A path segment from what a person typed (ids are checked by the server, which says why). */
export const seg = (s) => encodeURIComponent(s);
