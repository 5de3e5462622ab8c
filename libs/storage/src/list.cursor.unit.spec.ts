import { decodeListCursor, encodeListCursor } from './list.cursor';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('conversation list cursor', () => {
  it('decodes what it encodes', () => {
    const position = { at: new Date(1_800_000_000_000).toISOString(), id: 'g_abc-DEF_123' };
    const text = encodeListCursor(position);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeListCursor(text)).toEqual(position);
  });

  it.each([
    ['an empty string', ''],
    ['non-base64url text', 'zz+z'],
    ['not JSON', b64('x').slice(1)],
    ['an object', b64({ at: '2030-01-01T00:00:00.000Z', id: 'g_1' })],
    ['three items', b64(['2030-01-01T00:00:00.000Z', 'g_1', 'x'])],
    ['a time JavaScript reads and Postgres does not', b64(['1', 'g_1'])],
    ['a weekday time', b64(['Tue, 1 Jan 2030', 'g_1'])],
    ['a six-digit year', b64(['+275760-09-13T00:00:00.000Z', 'g_1'])],
    ['a time before 1970', b64(['1969-12-31T23:59:59.999Z', 'g_1'])],
    ['U+0000 in the id', b64(['2030-01-01T00:00:00.000Z', 'g\u0000'])],
    ['U+0085 in the id', b64(['2030-01-01T00:00:00.000Z', 'g\u0085'])],
    ['a NATS wildcard as id', b64(['2030-01-01T00:00:00.000Z', '*'])],
    ['a number as id', b64(['2030-01-01T00:00:00.000Z', 7])],
  ])('refuses %s', (_what, text) => {
    expect(decodeListCursor(text)).toBeUndefined();
  });
});
