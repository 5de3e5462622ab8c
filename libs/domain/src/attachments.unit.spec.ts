import type { ConversationCommand } from './commands';
import { MAX_ATTACHMENTS, type AttachmentRef } from './attachments';
import { decide, evolve } from './conversation.decider';
import type { ConversationEvent, MessageSent } from './events';
import { evolveMessage, type MessageState } from './message.state';
import { upcast } from './upcast';

const AT = '2026-01-01T10:00:00.000Z';
const CID = 'c1';
const file = (i: number): AttachmentRef => ({ id: `3f0c1f2e-8b4a-4c1d-9e6f-2a7b5c9d0e${String(i).padStart(2, '0')}`, name: `f${i}.png`, contentType: 'image/png', size: 10 + i });
const created: ConversationEvent = { type: 'ConversationCreated', v: 1, conversationId: CID, kind: 'group', members: ['alice', 'bob'], createdBy: 'alice', at: AT };
const state = evolve(undefined, created, 1);
const send = (extra: Partial<Extract<ConversationCommand, { type: 'SendMessage' }>>): ConversationCommand => ({
  type: 'SendMessage', conversationId: CID, senderId: 'bob', clientMsgId: 'm1', body: '', at: AT, ...extra,
});

describe('attachments in the rules: metadata in the event, never the bytes', () => {
  it('accepts a send with attachments and no text, carrying their metadata into MessageSent', () => {
    const d = decide(send({ attachments: [file(1), file(2)] }), state);
    expect(d.ok && (d.events[0] as MessageSent).attachments).toEqual([file(1), file(2)]);
  });

  it('refuses a send with neither text nor attachments (BAD_REQUEST), and more than 10 (PAYLOAD_TOO_LARGE)', () => {
    const code = (d: ReturnType<typeof decide>) => (d.ok ? 'ok' : d.rejection.code);
    expect(code(decide(send({}), state))).toBe('BAD_REQUEST');
    expect(code(decide(send({ attachments: [] }), state))).toBe('BAD_REQUEST');
    expect(code(decide(send({ attachments: Array.from({ length: MAX_ATTACHMENTS + 1 }, (_, i) => file(i)) }), state))).toBe('PAYLOAD_TOO_LARGE');
    const plain = decide(send({ body: 'text' }), state);
    expect(plain.ok && 'attachments' in plain.events[0]!).toBe(false);
  });

  it('upcasts a MessageSent with well-formed attachments, and refuses one whose attachments are not', () => {
    const event = { type: 'MessageSent', v: 1, conversationId: CID, senderId: 'bob', clientMsgId: 'm', body: '', at: AT, attachments: [file(1)] };
    expect(upcast(event)).toEqual(event);
    expect(upcast({ ...event, attachments: [{ ...file(1), id: '../x' }] })).toBeUndefined();
    expect(upcast({ ...event, attachments: [{ ...file(1), size: -1 }] })).toBeUndefined();
    expect(upcast({ ...event, attachments: 'f' })).toBeUndefined();
    expect(upcast({ ...event, attachments: Array.from({ length: MAX_ATTACHMENTS + 1 }, (_, i) => file(i)) })).toBeUndefined();
  });

  it('takes the attachments from a deleted message', () => {
    const m: MessageState = { senderId: 'bob', body: 'x', attachments: [file(1)] };
    evolveMessage(m, { type: 'MessageDeleted', v: 1, conversationId: CID, by: 'bob', targetSeq: 2, at: AT });
    expect(m).toEqual({ senderId: 'bob', body: '', deleted: true });
  });
});
