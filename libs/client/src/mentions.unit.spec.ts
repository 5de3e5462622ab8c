import { MAX_MENTIONS, mentionAt, mentionsIn } from './mentions';

describe('mentionsIn', () => {
  const members = ['bob', 'bobby', 'carol.k', 'dan'];
  it('finds the members written as @id, once each, in order', () => {
    expect(mentionsIn('@dan and @bob, then @dan again', members)).toEqual(['dan', 'bob']);
    expect(mentionsIn('hi @bobby', members)).toEqual(['bobby']);
    expect(mentionsIn('(@carol.k)', members)).toEqual(['carol.k']);
  });

  it('ends an id at a sentence mark, and mentions nobody in an address or for a non-member', () => {
    expect(mentionsIn('thanks @bob.', members)).toEqual(['bob']);
    expect(mentionsIn('@bob: look', members)).toEqual(['bob']);
    expect(mentionsIn('mail dan@bob.org', members)).toEqual([]);
    expect(mentionsIn('@bo @eve @', members)).toEqual([]);
  });

  it(`stops at ${MAX_MENTIONS}`, () => {
    const many = Array.from({ length: 60 }, (_, i) => `u${i}`);
    expect(mentionsIn(many.map((u) => `@${u}`).join(' '), many)).toEqual(many.slice(0, MAX_MENTIONS));
  });
});

describe('mentionAt', () => {
  it('finds the @word being typed at the caret', () => {
    expect(mentionAt('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionAt('hi @bob there', 7)).toEqual({ start: 3, query: 'bob' });
    expect(mentionAt('hi @bob there', 5)).toEqual({ start: 3, query: 'b' });
  });

  it('finds none outside an @word or inside an address', () => {
    expect(mentionAt('hi @bob there', 13)).toBeUndefined();
    expect(mentionAt('hi bob', 6)).toBeUndefined();
    expect(mentionAt('mail dan@bo', 11)).toBeUndefined();
    expect(mentionAt('', 0)).toBeUndefined();
  });
});
