import { decodeCursor, encodeCursor } from './sync.cursor';

const b64 = (text: string) => Buffer.from(text).toString('base64url');

describe('sync cursor', () => {
  it.each([
    [[]],
    [[0]],
    [[0, 17, 4, 123456789]],
    [[Number.MAX_SAFE_INTEGER, 0, 1]],
    [Array.from({ length: 4096 }, (_, i) => i * 1000)],
  ])('decodes what it encodes: %j', (watermarks) => {
    expect(decodeCursor(encodeCursor({ watermarks }))).toEqual({ watermarks });
  });

  it('encodes to URL-safe text with no padding', () => {
    // Cursors of every length mod 3, so plain base64 would need '=' padding for some.
    const cursors = [[], [1], [12], [123], [1, 2], [10, 20, 30], [2 ** 40, 7]].map((watermarks) => ({ watermarks }));
    expect(cursors.some((c) => Buffer.from(JSON.stringify({ v: 1, w: c.watermarks })).toString('base64').includes('='))).toBe(true);
    for (const cursor of cursors) {
      const text = encodeCursor(cursor);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(encodeURIComponent(text)).toBe(text);
    }
  });

  it.each([
    ['an empty string', ''],
    ['non-alphabet text', '!!!'],
    ['standard base64 with padding', Buffer.from('{"v":1,"w":[12]}').toString('base64')],
    ['text that is not base64 of JSON', 'abc'],
    ['base64 of non-JSON', b64('hello world')],
    ['base64 of a JSON number', b64('1')],
    ['base64 of JSON null', b64('null')],
    ['base64 of a JSON array', b64('[1,2]')],
    ['a wrong version', b64('{"v":2,"w":[1]}')],
    ['a string version', b64('{"v":"1","w":[1]}')],
    ['no version', b64('{"w":[1]}')],
    ['watermarks not an array', b64('{"v":1,"w":{"0":1}}')],
    ['no watermarks', b64('{"v":1}')],
    ['a negative watermark', b64('{"v":1,"w":[1,-1]}')],
    ['a fractional watermark', b64('{"v":1,"w":[1.5]}')],
    ['a string watermark', b64('{"v":1,"w":["1"]}')],
    ['a null watermark', b64('{"v":1,"w":[null]}')],
    ['an unsafe watermark', b64('{"v":1,"w":[9007199254740993]}')],
    ['more than 4096 watermarks', b64(JSON.stringify({ v: 1, w: new Array(4097).fill(0) }))],
  ])('decodes %s as undefined', (_, text) => {
    expect(decodeCursor(text)).toBeUndefined();
  });
});
