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
 * `GET` (or `POST`, `DELETE`) an admin route; resolves with the JSON body, rejects with an
 * AdminError. `query` values left undefined are not sent; `body` goes as JSON.
 */
export async function admin(path, { method = 'GET', query = {}, body } = {}) {
  const token = adminToken.get();
  if (!token) throw new AdminError('No admin token yet: type it in above.', 401);
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
  let res;
  try {
    const headers = { authorization: 'Bearer ' + token, accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }) };
    res = await fetch(url, { method, cache: 'no-store', headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  } catch (err) {
    throw new AdminError('The server did not answer (' + (err && err.message ? err.message : String(err)) + '). Is it running?', 0);
  }
  let answer = null;
  try {
    answer = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  if (!res.ok) {
    // A 403 of the rules (a command the operator may not make there) names its code; only a refused token signs out.
    const rules = res.status === 403 && answer && answer.error && answer.error.code === 'FORBIDDEN' && answer.message !== 'wrong token';
    const err = new AdminError(rules ? 'The server refused: ' + sentence(detailOf(answer)) : describeFailure(res.status, answer), res.status);
    if (res.status === 401 || (res.status === 403 && !rules)) refused(err);
    throw err;
  }
  return answer;
}

/** A path segment from what a person typed (ids are checked by the server, which says why). */
export const seg = (s) => encodeURIComponent(s);
