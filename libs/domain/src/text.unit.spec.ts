import { hasControlCharacter, isCanonicalTimestamp } from './text';

describe('control characters', () => {
  it('finds every character of Unicode category Cc: C0, DEL and C1 (U+0085 included)', () => {
    const cc = [...Array.from({ length: 0x20 }, (_, i) => i), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i)];
    for (const code of cc) expect({ code, found: hasControlCharacter(`a${String.fromCharCode(code)}b`) }).toEqual({ code, found: true });
  });

  it.each(['abc', 'cm-1:2@x', '\u00a0', '\u00a0é😀', '\u200b', '\u2028'])('lets %j through (not category Cc)', (text) => {
    expect(hasControlCharacter(text)).toBe(false);
  });
});

describe('canonical timestamps', () => {
  it.each(['1970-01-01T00:00:00.000Z', '2030-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z', new Date(1_700_000_000_123).toISOString()])('accepts %s', (at) => {
    expect(isCanonicalTimestamp(at)).toBe(true);
  });

  it.each([
    ['a bare number', '1'],
    ['garbage', 'garbage'],
    ['a weekday date', 'Tue, 1 Jan 2030 00:00:00 GMT'],
    ['a six-digit year', '+275760-09-13T00:00:00.000Z'],
    ['a year before 1970', '1969-12-31T23:59:59.999Z'],
    ['30 February', '2030-02-30T00:00:00.000Z'],
    ['hour 24', '2030-01-01T24:00:00.000Z'],
    ['no milliseconds', '2030-01-01T00:00:00Z'],
    ['microseconds', '2030-01-01T00:00:00.000000Z'],
    ['an offset', '2030-01-01T00:00:00.000+01:00'],
    ['no time zone', '2030-01-01T00:00:00.000'],
    ['a space instead of T', '2030-01-01 00:00:00.000Z'],
    ['a trailing newline', '2030-01-01T00:00:00.000Z\n'],
    ['a trailing U+0000', '2030-01-01T00:00:00.000Z\u0000'],
    ['an empty string', ''],
  ])('refuses %s', (_what, at) => {
    expect(isCanonicalTimestamp(at)).toBe(false);
  });
});
