// Words, names and times as a person reads and types them.

/** A user id, which is a person's name here (docs/protocol.md: 1-64 of `[A-Za-z0-9_.:@-]`). */
export const USER_ID = /^[A-Za-z0-9_.:@-]{1,64}$/;

/** "bob, carol ,bob" -> ["bob", "carol"] */
export const namesIn = (text) => [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];

const ERROR_WORDS = {
  BAD_REQUEST: 'That was not accepted',
  PAYLOAD_TOO_LARGE: 'That is too large',
  UNAUTHORIZED: 'Your sign-in has expired',
  FORBIDDEN: 'You are not allowed to do that here',
  NOT_FOUND: 'That no longer exists',
  RATE_LIMITED: 'Too fast: wait a moment and try again',
  UNAVAILABLE: 'The server is having trouble: try again in a moment',
};

/** An SDK or server error in words, with the server's own explanation when it has one. */
export function errorText(err) {
  if (!err) return 'Something went wrong';
  const words = ERROR_WORDS[err.code];
  if (words) return err.message ? `${words} (${err.message})` : words;
  if (/timed? ?out/i.test(err.message ?? '')) return 'No answer from the server: check your connection';
  return err.message || 'Something went wrong';
}

const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

export function timeOf(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** A day separator: Today, Yesterday, or the date. */
export function dayOf(iso, now = new Date()) {
  const d = new Date(iso);
  if (sameDay(d, now)) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(d, yesterday)) return 'Yesterday';
  return d.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long', ...(d.getFullYear() !== now.getFullYear() && { year: 'numeric' }) });
}

export const dayKey = (iso) => new Date(iso).toDateString();

/** The time in the conversation list: the hour today, the weekday this week, else the date. */
export function listTime(iso, now = new Date()) {
  if (!iso) return '';
  const d = new Date(iso);
  if (sameDay(d, now)) return timeOf(iso);
  if (now - d < 6 * 24 * 3600 * 1000) return d.toLocaleDateString([], { weekday: 'short' });
  return d.toLocaleDateString([], { day: 'numeric', month: 'short' });
}

/** "bob", "bob and carol", "bob, carol and dave", "bob, carol and 3 others". */
export function people(names) {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length <= 3) return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `${names.slice(0, 2).join(', ')} and ${names.length - 2} others`;
}

export function snippet(text, max = 80) {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** 1536 -> "1.5 KB": a file's size as people read it. */
export function sizeOf(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let n = bytes / 1024;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${n >= 10 ? Math.round(n) : Math.round(n * 10) / 10} ${units[u]}`;
}
