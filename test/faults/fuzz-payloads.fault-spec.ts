import fc from 'fast-check';
import { clientPayloads, ERROR_CODES, type ClientEventName } from '@chat/contracts';
import { caughtUp, footprint } from '../support/inspect';
import { UNLIMITED } from '../support/namespace';
import { useSystem } from '../support/system';

jest.setTimeout(180_000);

/** Fixed, so that a failure reproduces: FUZZ_SEED=<seed printed by fast-check> npx jest test/faults/fuzz-payloads.fault-spec.ts */
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const RUNS = 200;

/** Values that sit on the edges of the schemas: limits, ids that are NATS wildcards, text Postgres cannot store. */
const edgy = fc.constantFrom<unknown>(
  -1, 0, 1, 1.5, 2 ** 53, -0, 1e308, '', ' ', '*', '>', 'a.b', 'a b', '\u0000', 'a\ud800', '\udfff', '😀', 'x'.repeat(64), 'x'.repeat(65),
  'x'.repeat(17 * 1024), 'é'.repeat(9000), [], {}, null, true, ['bob'], Array.from({ length: 1001 }, (_, i) => `u${i}`),
);
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string({ unit: 'binary', maxLength: 40 }), edgy);

type Mutation = { op: 'set'; key: string; value: unknown } | { op: 'delete'; key: string };

/** A valid payload with one to three fields set to something else, removed, or added (keys like __proto__ included). */
function nearValid(valid: Record<string, unknown>) {
  const keys = [...Object.keys(valid), 'extra', '__proto__', 'constructor'];
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: fc.constant('set' as const), key: fc.constantFrom(...keys), value: anyValue }),
    fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
    const payload: Record<string, unknown> = { ...valid };
    for (const m of mutations) {
      if (m.op === 'delete') delete payload[m.key];
      // defineProperty: an own `__proto__` key, as JSON.parse on the server makes it, not a prototype.
      else Object.defineProperty(payload, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    }
    return payload;
  });
}

describe('fuzzing every client event over a real socket', () => {
  const sys = useSystem('fuzz', UNLIMITED);

  it(`answers ${RUNS} arbitrary and near-valid payloads with an ok or a docs/protocol.md error, stays up, and writes nothing for a refusal`, async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'group', members: ['bob'], title: 'fuzz' });
    const sent = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'seed', body: 'hello' });
    // alice owns the group: she may moderate it, and report bob's message.
    const bobs = await bob.ok('message:send', { conversationId: conversation.id, clientMsgId: 'seed', body: 'hello alice' });
    const c = conversation.id;
    // An attachment alice uploaded (its bytes through the presigned URL, as a client would).
    const upload = await alice.ok('attachment:create', { conversationId: c, name: 'fuzz.txt', contentType: 'text/plain', size: 4 });
    expect((await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.uploadHeaders, body: 'fuzz' })).status).toBe(200);
    const valid: Record<ClientEventName, Record<string, unknown>> = {
      'conversation:create': { type: 'direct', members: ['bob'] },
      'conversation:add_members': { conversationId: c, userIds: ['carol'] },
      'conversation:remove_members': { conversationId: c, userIds: ['carol'] },
      'conversation:list': { limit: 10 },
      'message:send': { conversationId: c, clientMsgId: 'm1', body: 'hi', attachments: [upload.attachmentId] },
      'message:edit': { conversationId: c, seq: sent.seq, body: 'edited' },
      'message:delete': { conversationId: c, seq: sent.seq },
      'reaction:add': { conversationId: c, seq: sent.seq, emoji: '👍' },
      'reaction:remove': { conversationId: c, seq: sent.seq, emoji: '👍' },
      sync: { limit: 5 },
      history: { conversationId: c, limit: 5 },
      read: { conversationId: c, seq: sent.seq },
      typing: { conversationId: c, state: 'stop' },
      'presence:subscribe': { userIds: ['bob'] },
      'presence:unsubscribe': { userIds: ['bob'] },
      'push:register': { platform: 'webhook', token: 'https://hooks.example.com/wake' },
      'push:unregister': {},
      'conversation:notify': { conversationId: c, level: 'mentions' },
      receipts: { conversationId: c },
      'conversation:set_role': { conversationId: c, userId: 'bob', role: 'moderator' },
      'conversation:mute_member': { conversationId: c, userId: 'bob', until: '2999-01-01T00:00:00.000Z' },
      'conversation:unmute_member': { conversationId: c, userId: 'bob' },
      'conversation:set_slow_mode': { conversationId: c, seconds: 30 },
      'message:report': { conversationId: c, seq: bobs.seq, reason: 'spam' },
      search: { query: 'hello', conversationId: c, limit: 5 },
      'attachment:create': { conversationId: c, name: 'notes.txt', contentType: 'text/plain', size: 10 },
      'attachment:url': { conversationId: c, attachmentId: upload.attachmentId },
    };
    const events = Object.keys(clientPayloads) as ClientEventName[];
    expect(Object.keys(valid).sort()).toEqual([...events].sort());

    let written = await footprint(sys().ns);
    const answers = new Map<string, number>();
    const count = (what: string) => answers.set(what, (answers.get(what) ?? 0) + 1);
    const payloadOf = (event: ClientEventName) => fc.oneof(anyValue, nearValid(valid[event]));
    const cases = fc.constantFrom(...events).chain((event) => payloadOf(event).map((payload) => ({ event, payload })));

    await fc.assert(
      fc.asyncProperty(cases, async ({ event, payload }) => {
        const ack = await alice.request(event, payload, 20_000);
        count(ack.ok ? 'ok' : ack.error.code);
        if (ack.ok) {
          // A change the server accepted is written: wait until it is projected, then take it as the new baseline.
          await caughtUp(sys().ns);
          written = await footprint(sys().ns);
        } else {
          expect(ERROR_CODES).toContain(ack.error.code);
          expect(typeof ack.error.message).toBe('string');
          // A refusal wrote nothing: no stream entry, no row.
          expect(await footprint(sys().ns)).toEqual(written);
        }
        expect(alice.socket.connected).toBe(true);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The fuzzer reached past the schema into the rules and the work, not just into the schema.
    console.log(`fuzz answers (seed ${SEED}): ${JSON.stringify(Object.fromEntries(answers))}`);
    expect(answers.get('BAD_REQUEST')).toBeGreaterThan(0);
    expect(answers.get('ok')).toBeGreaterThan(0);
    expect([...answers.keys()].filter((k) => k !== 'ok' && k !== 'BAD_REQUEST').length).toBeGreaterThan(0);
    expect((await fetch(`${sys().app.url}/readyz`)).status).toBe(200);
  });
});
