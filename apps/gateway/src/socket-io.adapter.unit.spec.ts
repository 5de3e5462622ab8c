import type { IncomingMessage } from 'node:http';
import { originAllowed } from './socket-io.adapter';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const trusted = new Set(['https://chat.example.com', 'http://localhost:3000']);

describe('originAllowed', () => {
  it('admits the trusted origins and clients that send no Origin (not browsers)', () => {
    expect(originAllowed(request({ origin: 'https://chat.example.com', host: 'chat.example.com' }), trusted)).toBe(true);
    expect(originAllowed(request({ origin: 'http://localhost:3000', host: 'localhost:3000' }), trusted)).toBe(true);
    expect(originAllowed(request({ host: 'anything' }), trusted)).toBe(true);
  });

  it.each([
    ['a page on a rebound DNS name, whose Host agrees with its Origin', { origin: 'http://evil.example', host: 'evil.example' }],
    ['the same over https with a port', { origin: 'https://evil.example:8443', host: 'evil.example:8443' }],
    ['a trusted host on another scheme', { origin: 'http://chat.example.com', host: 'chat.example.com' }],
    ['a trusted host on another port', { origin: 'http://localhost:3001', host: 'localhost:3001' }],
    ['a look-alike', { origin: 'https://chat.example.com.evil.example', host: 'chat.example.com' }],
    ['the opaque origin', { origin: 'null', host: 'chat.example.com' }],
  ])('refuses %s', (_what, headers) => {
    expect(originAllowed(request(headers), trusted)).toBe(false);
  });
});
