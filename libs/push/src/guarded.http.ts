import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { errorText, MAX_BODY_BYTES, type HttpOutcome } from './push.http';
import { addressAllowed } from './push.target';

/** The error a refused address fails the connect with (never retried: the target is what is wrong). */
export const REFUSED_ADDRESS = 'ECHAT_REFUSED_ADDRESS';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for sockets to user-given push targets: the name is resolved as usual and every
 * address it resolves to must pass the address rules (and be loopback, for plain http);
 * otherwise the connect fails. It runs at each connect, so a name re-pointed after the
 * target was accepted (DNS rebinding) is refused then.
 */
export function guardedLookup(allowLoopback: boolean, loopbackOnly: boolean, resolve: typeof dnsLookup = dnsLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      for (const a of list) {
        const verdict = addressAllowed(a.address, allowLoopback);
        const refusal = !verdict.ok ? verdict.reason : loopbackOnly && !verdict.loopback ? `${a.address} is not loopback (plain http)` : undefined;
        if (refusal) {
          const e: NodeJS.ErrnoException = new Error(`refused address: ${hostname} resolves to ${refusal}`);
          e.code = REFUSED_ADDRESS;
          return callback(e, '', 0);
        }
      }
      if (list.length === 0) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

export interface GuardedRequest {
  url: URL;
  headers: Record<string, string>;
  body: string | Uint8Array;
  timeoutMs: number;
  allowLoopback: boolean;
  loopbackOnly: boolean;
}

/**
 * POSTs to a user-given target over node:http(s), with the guarded lookup, one deadline for
 * the whole exchange (connect, answer, body: a receiver that accepts and never answers costs
 * `timeoutMs`, no more), no redirects followed and at most 64 KiB of the answer read. An IP
 * literal host is never looked up: its check is checkPushTarget's, done before this.
 */
export class GuardedHttp {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: 15_000 }),
    'https:': new https.Agent({ keepAlive: true, timeout: 15_000 }),
  };

  post(r: GuardedRequest): Promise<HttpOutcome & { refused?: true }> {
    const protocol = r.url.protocol === 'https:' ? 'https:' : 'http:';
    const request = protocol === 'https:' ? https.request : http.request;
    const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : Buffer.from(r.body);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (o: HttpOutcome & { refused?: true }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = request(
        r.url,
        {
          method: 'POST',
          headers: { ...r.headers, 'content-length': String(body.length) },
          agent: this.agents[protocol],
          lookup: guardedLookup(r.allowLoopback, r.loopbackOnly) as unknown as http.RequestOptions['lookup'],
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const done = () => finish({ status: res.statusCode ?? 0, headers: toHeaders(res.headers), text: Buffer.concat(chunks).toString('utf8') });
          res.on('data', (c: Buffer) => {
            if (size >= MAX_BODY_BYTES) return;
            const take = c.subarray(0, MAX_BODY_BYTES - size);
            chunks.push(take);
            size += take.length;
            if (size >= MAX_BODY_BYTES) {
              done();
              res.destroy();
            }
          });
          res.on('end', done);
          // a body cut short still leaves the status to judge by
          res.on('error', done);
          res.on('close', done);
        },
      );
      const timer = setTimeout(() => {
        finish({ error: 'timeout' });
        req.destroy();
      }, r.timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        finish(e.code === REFUSED_ADDRESS ? { error: e.message, refused: true } : { error: errorText(e) });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}

function toHeaders(h: http.IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    for (const value of Array.isArray(v) ? v : [v]) out.append(k, value);
  }
  return out;
}
