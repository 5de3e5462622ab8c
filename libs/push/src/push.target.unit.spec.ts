import type { LookupAddress } from 'node:dns';
import { guardedLookup, REFUSED_ADDRESS } from './guarded.http';
import { addressAllowed, addressKind, checkPushTarget, type TargetPolicy } from './push.target';

describe('push target addresses', () => {
  it.each([
    ['8.8.8.8', 'public'], ['1.1.1.1', 'public'], ['172.32.0.1', 'public'], ['100.128.0.1', 'public'], ['2606:4700:4700::1111', 'public'], ['[2a00:1450:4001::200e]', 'public'],
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['::1', 'loopback'], ['[::1]', 'loopback'], ['0:0:0:0:0:0:0:1', 'loopback'],
    ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'], ['::', 'unspecified'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'], ['100.127.255.255', 'shared (CGNAT)'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'], ['fd12:3456::1', 'unique-local'], ['fec0::1', 'site-local'],
    ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'], ['ff02::1', 'multicast'],
    ['240.0.0.1', 'reserved'], ['255.255.255.255', 'reserved'], ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'], ['198.51.100.7', 'documentation'], ['203.0.113.9', 'documentation'], ['2001:db8::1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['::ffff:127.0.0.1', 'IPv4-mapped'], ['::ffff:7f00:1', 'IPv4-mapped'], ['::ffff:8.8.8.8', 'IPv4-mapped'], ['[::ffff:10.0.0.1]', 'IPv4-mapped'],
    ['::127.0.0.1', 'IPv4-compatible'], ['::a00:1', 'IPv4-compatible'],
    ['64:ff9b::a00:1', 'NAT64'], ['2002:7f00:1::', '6to4'], ['2001:0:4136:e378::1', 'Teredo'], ['100::1', 'discard'],
    ['fe80::1%eth0', 'not an address'], ['127.1', 'not an address'], ['0177.0.0.1', 'not an address'], ['2130706433', 'not an address'],
    ['0x7f.1', 'not an address'], ['127.0.0.01', 'not an address'], ['256.0.0.1', 'not an address'], ['localhost', 'not an address'], ['', 'not an address'],
  ])('%s is %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
  });

  it('allows public addresses, and loopback only where allowed', () => {
    expect(addressAllowed('8.8.8.8', false)).toEqual({ ok: true, loopback: false });
    expect(addressAllowed('127.0.0.1', true)).toEqual({ ok: true, loopback: true });
    expect(addressAllowed('::1', true)).toEqual({ ok: true, loopback: true });
    expect(addressAllowed('127.0.0.1', false)).toEqual({ ok: false, reason: '127.0.0.1 is a loopback address' });
    // a mapped loopback is not loopback: refused even where loopback is allowed
    expect(addressAllowed('::ffff:127.0.0.1', true)).toEqual({ ok: false, reason: '::ffff:127.0.0.1 is a IPv4-mapped address' });
    expect(addressAllowed('10.0.0.1', true).ok).toBe(false);
  });
});

describe('push target URLs', () => {
  const hosts: TargetPolicy = { allowedHosts: ['hooks.example.com', 'push.example.net:8443', '127.0.0.1', 'localhost', '[::1]', '8.8.8.8', '10.1.2.3', '169.254.169.254', '[fd00::1]'], allowLoopback: false };
  const dev: TargetPolicy = { ...hosts, allowLoopback: true };
  const verdict = (url: unknown, policy = hosts) => {
    const r = checkPushTarget(url, policy);
    return r.ok ? 'ok' : r.reason;
  };

  it('accepts https to an allowed host, case-insensitively, on any port unless the entry names one', () => {
    expect(verdict('https://hooks.example.com/wake')).toBe('ok');
    expect(verdict('https://HOOKS.Example.COM:444/wake?x=1')).toBe('ok');
    expect(verdict('https://push.example.net:8443/w')).toBe('ok');
    expect(verdict('https://push.example.net/w')).toMatch(/not among the allowed push hosts/);
    expect(verdict('https://8.8.8.8/w')).toBe('ok');
  });

  it('refuses hosts that are not on the list, and every host when the list is empty', () => {
    expect(verdict('https://evil.example.org/w')).toMatch(/not among the allowed push hosts/);
    expect(verdict('https://hooks.example.com.evil.org/w')).toMatch(/not among/);
    expect(verdict('https://sub.hooks.example.com/w')).toMatch(/not among/);
    expect(verdict('https://hooks.example.com./w')).toMatch(/not among/);
    expect(verdict('https://hooks.example.com/w', { allowedHosts: [], allowLoopback: true })).toMatch(/not among/);
    expect(verdict('http://127.0.0.1:9/w', { allowedHosts: [], allowLoopback: true })).toMatch(/not among/);
  });

  it('refuses private, link-local, unique-local and mapped addresses even when listed', () => {
    expect(verdict('https://10.1.2.3:8443/x')).toBe('host refused: 10.1.2.3 is a private address');
    expect(verdict('https://169.254.169.254/latest/meta-data/')).toBe('host refused: 169.254.169.254 is a link-local address');
    expect(verdict('https://[fd00::1]/x')).toBe('host refused: [fd00::1] is a unique-local address');
    expect(verdict('https://[::ffff:127.0.0.1]/x', dev)).toMatch(/IPv4-mapped/);
    expect(verdict('https://[::ffff:a9fe:a9fe]/x', dev)).toMatch(/IPv4-mapped/);
    expect(verdict('https://0.0.0.0/x', dev)).toMatch(/unspecified/);
    expect(verdict('https://[::]/x', dev)).toMatch(/unspecified/);
  });

  it('refuses numeric encodings of addresses, whatever they decode to', () => {
    for (const url of [
      'http://2130706433/x', 'http://0177.0.0.1/x', 'http://0x7f.1/x', 'http://0x7f000001/x', 'http://127.1/x', 'http://127.0.1/x',
      'http://017700000001/x', 'http://127.0.0.1./x', 'http://127.0.0.%31/x', 'http://１２７.０.０.１/x', 'https://[0:0:0:0:0:0:0:1]/x',
      // 8.8.8.8, which the list allows when written plainly
      'https://134744072/x', 'https://0x8.0x8.0x8.0x8/x', 'https://010.010.010.010/x',
    ]) {
      expect([url, verdict(url, dev)]).toEqual([url, expect.stringMatching(/^numeric-encoded host/)]);
    }
    // encodings of refused addresses are refused for what they are
    for (const url of ['https://0xa9.0xfe.0xa9.0xfe/x', 'https://2852039166/x', 'https://0xa.1/x', 'https://[::FFFF:127.0.0.1]/x']) {
      expect([url, verdict(url, dev)]).toEqual([url, expect.stringMatching(/^host refused: .* (link-local|private|IPv4-mapped) address$/)]);
    }
  });

  it('takes loopback only where allowed, plain http only to loopback', () => {
    expect(verdict('http://127.0.0.1:8080/x', dev)).toBe('ok');
    expect(verdict('https://127.0.0.1/x', dev)).toBe('ok');
    expect(verdict('http://localhost:9000/x', dev)).toBe('ok');
    expect(verdict('http://[::1]:9/x', dev)).toBe('ok');
    expect(checkPushTarget('http://localhost:9000/x', dev)).toMatchObject({ ok: true, loopbackOnly: true });
    expect(checkPushTarget('https://localhost:9000/x', dev)).toMatchObject({ ok: true, loopbackOnly: false });
    expect(verdict('http://127.0.0.1:8080/x')).toBe('host refused: 127.0.0.1 is a loopback address');
    expect(verdict('http://localhost/x')).toBe('host localhost refused: loopback');
    expect(verdict('http://app.localhost/x', { allowLoopback: false })).toMatch(/loopback/);
    expect(verdict('http://hooks.example.com/x', dev)).toMatch(/plain http refused/);
    expect(verdict('http://8.8.8.8/x', dev)).toMatch(/plain http refused/);
  });

  it('refuses every scheme but https and http', () => {
    for (const url of ['file:///etc/passwd', 'gopher://127.0.0.1:6379/_INFO', 'ftp://hooks.example.com/x', 'ws://hooks.example.com/x', 'wss://hooks.example.com/x',
      'javascript:alert(1)', 'data:text/plain,x', 'dict://127.0.0.1:11211/', 'ldap://hooks.example.com', 'HTTPS:hooks.example.com', '//hooks.example.com/x', 'hooks.example.com/x']) {
      const r = verdict(url, dev);
      expect([url, r]).toEqual([url, expect.stringMatching(/scheme|credentials|not a URL/)]);
    }
    expect(verdict('HTTPS://hooks.example.com/x')).toBe('ok');
  });

  it('refuses credentials, junk and overlong URLs', () => {
    expect(verdict('https://user:pw@hooks.example.com/x')).toMatch(/credentials/);
    expect(verdict('https://@hooks.example.com/x')).toMatch(/credentials/);
    expect(verdict('https://hooks.example.com@10.0.0.1/x')).toMatch(/credentials/);
    expect(verdict('not a url')).toMatch(/scheme/);
    expect(verdict('')).toMatch(/not a URL/);
    expect(verdict(42)).toMatch(/not a URL/);
    expect(verdict(`https://hooks.example.com/${'a'.repeat(3000)}`)).toMatch(/longer than/);
    // a backslash ends the host for URL parsing: the host is hooks.example.com
    expect(checkPushTarget('https://hooks.example.com\\@10.0.0.1/x', hosts)).toMatchObject({ ok: true, url: expect.objectContaining({ hostname: 'hooks.example.com' }) });
  });

  it('without a host list (Web Push), judges by address only', () => {
    const any: TargetPolicy = { allowLoopback: false };
    expect(verdict('https://fcm.googleapis.com/fcm/send/abc', any)).toBe('ok');
    expect(verdict('https://10.0.0.1/x', any)).toMatch(/private/);
    expect(verdict('https://localhost/x', any)).toMatch(/loopback/);
  });
});

describe('the connect-time lookup', () => {
  const resolver = (answers: Record<string, LookupAddress[]>) =>
    ((host: string, _o: unknown, cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) => cb(null, answers[host] ?? [])) as never;
  const lookup = (host: string, answers: LookupAddress[], allowLoopback: boolean, loopbackOnly: boolean, all = false) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) =>
      guardedLookup(allowLoopback, loopbackOnly, resolver({ [host]: answers }))(host, { all }, (err, address, family) => resolve({ err, address, family })));

  it('passes public addresses through, in either callback shape', async () => {
    expect(await lookup('hooks.example.com', [{ address: '93.184.216.34', family: 4 }], false, false)).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    const both = [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::1', family: 6 }];
    expect(await lookup('hooks.example.com', both, false, false, true)).toEqual({ err: null, address: both });
  });

  it('refuses a name that resolves to a private address, or to one among public ones (DNS rebinding)', async () => {
    const r = await lookup('hooks.example.com', [{ address: '10.0.0.7', family: 4 }], true, false);
    expect(r.err?.code).toBe(REFUSED_ADDRESS);
    expect(r.err?.message).toBe('refused address: hooks.example.com resolves to 10.0.0.7 is a private address');
    const mixed = await lookup('hooks.example.com', [{ address: '93.184.216.34', family: 4 }, { address: '169.254.169.254', family: 4 }], true, false, true);
    expect(mixed.err?.code).toBe(REFUSED_ADDRESS);
    expect((await lookup('hooks.example.com', [{ address: '::ffff:10.0.0.1', family: 6 }], true, false)).err?.code).toBe(REFUSED_ADDRESS);
  });

  it('takes loopback only where allowed, and nothing else for plain http', async () => {
    expect((await lookup('localhost', [{ address: '127.0.0.1', family: 4 }], false, false)).err?.code).toBe(REFUSED_ADDRESS);
    expect((await lookup('localhost', [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }], true, true, true)).err).toBeNull();
    expect((await lookup('localhost', [{ address: '93.184.216.34', family: 4 }], true, true)).err?.code).toBe(REFUSED_ADDRESS);
  });
});
