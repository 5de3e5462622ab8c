import { LocalStorageOutboxStore } from './outbox.store';
import { tokenSubject } from './token.subject';

/** localStorage's interface over a Map. */
function storage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m };
}
const send = (clientMsgId: string) => ({ conversationId: 'd_1', clientMsgId, body: `b ${clientMsgId}`, createdAt: '2025-01-01T00:00:00.000Z' });

describe('LocalStorageOutboxStore', () => {
  it('keeps sends across instances (a reload) in order, one entry at a time, and removes the key when empty', () => {
    const s = storage();
    const tab1 = new LocalStorageOutboxStore(s, 'k');
    const tab2 = new LocalStorageOutboxStore(s, 'k');
    tab1.put(send('a'));
    tab2.put(send('b'));
    tab1.put({ ...send('a'), replyToSeq: 3 });
    expect(new LocalStorageOutboxStore(s, 'k').load()).toEqual([send('b'), { ...send('a'), replyToSeq: 3 }]);
    tab2.remove('a');
    tab1.remove('b');
    expect(tab1.load()).toEqual([]);
    expect(s.m.has('k')).toBe(false);
  });

  it('reads a damaged or foreign value as empty, and skips entries that are not sends', () => {
    const s = storage();
    s.setItem('k', '{not json');
    expect(new LocalStorageOutboxStore(s, 'k').load()).toEqual([]);
    s.setItem('k', JSON.stringify([send('a'), { clientMsgId: 5 }, null]));
    expect(new LocalStorageOutboxStore(s, 'k').load()).toEqual([send('a')]);
  });
});

describe('LocalStorageOutboxStore with threads and mentions', () => {
  it('keeps a thread reply and its mentions, so that a reply restored after a reload goes to its thread', () => {
    const s = storage();
    const reply = { ...send('r'), threadRootSeq: 7, mentions: ['bob'] };
    new LocalStorageOutboxStore(s, 'k').put(reply);
    expect(new LocalStorageOutboxStore(s, 'k').load()).toEqual([reply]);
    s.setItem('k', JSON.stringify([{ ...send('x'), threadRootSeq: '7' }, { ...send('y'), mentions: [1] }, reply]));
    expect(new LocalStorageOutboxStore(s, 'k').load()).toEqual([reply]);
  });
});

describe('tokenSubject', () => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  it("reads a JWT's sub, and nothing from what is not one", () => {
    expect(tokenSubject(`${b64({ alg: 'HS256' })}.${b64({ sub: 'alice@x', exp: 1 })}.sig`)).toBe('alice@x');
    expect(tokenSubject('opaque')).toBeUndefined();
    expect(tokenSubject('a.###.c')).toBeUndefined();
    expect(tokenSubject(`a.${b64({ sub: 5 })}.c`)).toBeUndefined();
  });
});
