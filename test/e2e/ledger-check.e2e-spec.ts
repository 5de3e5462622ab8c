import { caughtUp } from '../support/inspect';
import { SendLedger, cursorsOf, expectNothingLost } from '../support/ledger';
import { UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';
jest.setTimeout(90_000);
describe('the acked-sends ledger every fault test ends with', () => {
  const sys = useSystem('ledger', UNLIMITED);
  it('passes on a clean run and fails on a tampered ledger', async () => {
    const a = await sys().connect('a'); await sys().connect('b');
    const { conversation: d } = await a.ok('conversation:create', { type: 'direct', members: ['b'] });
    const { conversation: g } = await a.ok('conversation:create', { type: 'group', members: ['b', 'c'], title: 'g' });
    const cursors = await cursorsOf(sys().app.url, ['a', 'b', 'c']);
    const ledger = new SendLedger();
    await Promise.all(Array.from({ length: 100 }, (_, i) => ledger.send(a, i % 2 ? d.id : g.id, `m${i}`)));
    await caughtUp(sys().ns);
    const members = { [d.id]: ['a', 'b'], [g.id]: ['a', 'b', 'c'] };
    await expectNothingLost(sys().ns, ledger, { url: sys().app.url, members, cursors });
    ledger.record({ conversationId: d.id, senderId: 'a', clientMsgId: 'ghost', seq: 9999 });
    await expect(expectNothingLost(sys().ns, ledger, { url: sys().app.url, members, cursors })).rejects.toThrow(/missing/);
  });
});
