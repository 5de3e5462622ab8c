import { containsBinary } from './binary';

describe('containsBinary', () => {
  it.each([
    ['a Buffer', Buffer.from('x')],
    ['a Uint8Array in an unknown field', { conversationId: 'c1', extra: new Uint8Array(1) }],
    ['an ArrayBuffer deep in a list', { a: [1, [2, { b: [new ArrayBuffer(2)] }]] }],
    ['a DataView', { v: new DataView(new ArrayBuffer(1)) }],
    // An own `__proto__` key, as JSON.parse makes it.
    ['a Buffer behind an own __proto__ key', Object.defineProperty({}, '__proto__', { value: { data: Buffer.from('x') }, enumerable: true })],
  ])('finds %s', (_what, value) => {
    expect(containsBinary(value)).toBe(true);
  });

  it.each([null, undefined, 1, 'text', [], {}, { body: 'x', list: [1, 'a', null, { _placeholder: true, num: 0 }] }])('finds none in %j', (value) => {
    expect(containsBinary(value)).toBe(false);
  });

  it('walks 100,000 levels of nesting without overflowing the stack', () => {
    let deep: unknown = Buffer.from('x');
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? [deep] : { d: deep };
    expect(containsBinary(deep)).toBe(true);
  });
});
