import { isIPv4, isIPv6 } from 'node:net';

/*
 * Rules for push targets that users hand in (webhook URLs, Web Push endpoints): the server
 * POSTs there, signed, so a target must not be a way into the operator's own network
 * (server-side request forgery). Pure functions; the connect-time half is in guarded.http.ts.
 */

/** What an address is, as far as push is concerned. Everything but `public` (and `loopback` where allowed) is refused. */
export type AddressKind =
  | 'public' | 'loopback' | 'unspecified' | 'private' | 'shared (CGNAT)' | 'link-local' | 'unique-local' | 'site-local'
  | 'multicast' | 'reserved' | 'documentation' | 'benchmarking' | 'IPv4-mapped' | 'IPv4-compatible' | 'NAT64' | '6to4' | 'Teredo' | 'ORCHID' | 'discard'
  | 'not an address';

interface Range {
  bytes: number[];
  prefix: number;
  kind: AddressKind;
}

const v4 = (cidr: string, kind: AddressKind): Range => {
  const [a, p] = cidr.split('/');
  return { bytes: a!.split('.').map(Number), prefix: Number(p), kind };
};
const v6 = (cidr: string, kind: AddressKind): Range => {
  const [a, p] = cidr.split('/');
  return { bytes: [...parseIPv6(a!)!], prefix: Number(p), kind };
};

/** IANA special-purpose registries (RFC 6890 and successors); the first match names the kind. */
const V4_RANGES: Range[] = [
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'shared (CGNAT)'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', 'reserved'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];
const V6_RANGES: Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('::ffff:0:0/96', 'IPv4-mapped'),
  v6('::/96', 'IPv4-compatible'),
  v6('::ffff:0:0:0/96', 'IPv4-mapped'),
  v6('64:ff9b::/96', 'NAT64'),
  v6('64:ff9b:1::/48', 'NAT64'),
  v6('100::/64', 'discard'),
  v6('2001::/32', 'Teredo'),
  v6('2001:2::/48', 'benchmarking'),
  v6('2001:10::/28', 'ORCHID'),
  v6('2001:20::/28', 'ORCHID'),
  v6('2001:db8::/32', 'documentation'),
  v6('2002::/16', '6to4'),
  v6('3fff::/20', 'documentation'),
  v6('fc00::/7', 'unique-local'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'site-local'),
  v6('ff00::/8', 'multicast'),
  // Outside 2000::/3 nothing is allocated for the public internet.
  v6('::/3', 'reserved'),
  v6('4000::/2', 'reserved'),
  v6('8000::/1', 'reserved'),
];

function parseIPv4(text: string): number[] | undefined {
  // Four decimal octets without leading zeros: the one form that means the same to every parser.
  if (!/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text)) return undefined;
  const bytes = text.split('.').map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function parseIPv6(text: string): Uint8Array | undefined {
  if (text.includes('%') || !isIPv6(text)) return undefined; // zone ids name an interface of this host
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined): number[] | undefined => {
    if (!s) return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const b = parseIPv4(p);
        if (!b) return undefined;
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (!h || !t) return undefined;
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...h, ...Array<number>(tail === undefined ? 0 : missing).fill(0), ...t];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

function inRange(bytes: ArrayLike<number>, r: Range): boolean {
  for (let bit = 0; bit < r.prefix; bit += 8) {
    const n = Math.min(8, r.prefix - bit);
    const mask = (0xff << (8 - n)) & 0xff;
    if ((bytes[bit / 8]! & mask) !== (r.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

/** What an IP address (as a resolver gives it, or a URL's canonical host, with or without brackets) is. */
export function addressKind(address: string): AddressKind {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(text)) {
    const bytes = parseIPv4(text);
    if (!bytes) return 'not an address';
    return V4_RANGES.find((r) => inRange(bytes, r))?.kind ?? 'public';
  }
  const bytes = parseIPv6(text);
  if (!bytes) return 'not an address';
  return V6_RANGES.find((r) => inRange(bytes, r))?.kind ?? 'public';
}

/** Whether a push may connect to this address; `reason` names its kind when not. */
export function addressAllowed(address: string, allowLoopback: boolean): { ok: true; loopback: boolean } | { ok: false; reason: string } {
  const kind = addressKind(address);
  if (kind === 'public') return { ok: true, loopback: false };
  if (kind === 'loopback' && allowLoopback) return { ok: true, loopback: true };
  return { ok: false, reason: `${address} is ${kind === 'not an address' ? 'not an IP address' : `a ${kind} address`}` };
}

export interface TargetPolicy {
  /**
   * Host names (or `host:port`) a target may name, lower case, compared exactly; undefined:
   * any host (whose addresses pass the address rules). An empty list allows nothing.
   */
  allowedHosts?: readonly string[];
  /** `http:` and `https:` to 127.0.0.0/8, [::1] and `localhost`: local receivers and tests. */
  allowLoopback: boolean;
}

export type PushTarget =
  | { ok: true; url: URL; /** Plain http: every address it resolves to must be loopback. */ loopbackOnly: boolean }
  | { ok: false; reason: string };

const MAX_URL_LENGTH = 2048;

/** The host as the raw text spells it (WHATWG URL rewrites `0x7f.1`, `2130706433`, `0177.0.0.1` to 127.0.0.1). */
function rawHost(raw: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:[/\\]{2}([^/\\?#]*)/i.exec(raw.trim());
  if (!m) return undefined;
  const authority = m[1]!;
  if (authority.includes('@')) return undefined;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? undefined : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}

const isLoopbackName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/** Whether `host` (and `port`) is on the list: `host` entries allow any port, `host:port` entries that one. */
export function hostAllowed(allowed: readonly string[], host: string, port: string): boolean {
  const h = host.toLowerCase();
  return allowed.some((entry) => {
    const e = entry.trim().toLowerCase();
    return e === h || e === `${h}:${port}`;
  });
}

/**
 * A push target URL judged before anything connects: `https:` only (`http:` to loopback
 * where allowed), no credentials, a host on the operator's list, an IP literal only in its
 * plain form and only when public (or loopback where allowed). Names are judged again by
 * the addresses they resolve to, at connect time (guarded.http.ts), so a name that is
 * re-pointed later (DNS rebinding) gets no further.
 */
export function checkPushTarget(raw: unknown, policy: TargetPolicy): PushTarget {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'not a URL' };
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `URL longer than ${MAX_URL_LENGTH} characters` };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw.trim())?.[1]?.toLowerCase();
  if (scheme !== 'https' && scheme !== 'http') return { ok: false, reason: `scheme ${scheme ? `${scheme}:` : '(none)'} refused: only https` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  const spelled = rawHost(raw);
  if (spelled === undefined || url.username || url.password) return { ok: false, reason: 'a URL with credentials is refused' };
  const host = url.hostname.toLowerCase();
  const literal = addressKind(host) !== 'not an address';
  let loopback = false;
  if (literal) {
    const verdict = addressAllowed(host, policy.allowLoopback);
    if (!verdict.ok) return { ok: false, reason: `host refused: ${verdict.reason}` };
    // Anything that URL parsing turned into an IP address must have been written as that address.
    if (spelled.toLowerCase() !== host) return { ok: false, reason: `numeric-encoded host ${JSON.stringify(spelled)} refused: write the address as ${host}` };
    loopback = verdict.loopback;
  } else if (isLoopbackName(host)) {
    if (!policy.allowLoopback) return { ok: false, reason: `host ${host} refused: loopback` };
    loopback = true;
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (policy.allowedHosts && !hostAllowed(policy.allowedHosts, host, port)) {
    return { ok: false, reason: `host ${host} is not among the allowed push hosts (CHAT_PUSH_WEBHOOK_HOSTS)` };
  }
  if (url.protocol === 'http:' && !loopback) return { ok: false, reason: 'plain http refused: only https (http only to loopback, where allowed)' };
  return { ok: true, url, loopbackOnly: url.protocol === 'http:' };
}
