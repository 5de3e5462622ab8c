import type { Ack } from '@chat/contracts';
import type { TestClient } from './clients';

/** A command the rules refuse, with its code. */
async function refused(answer: Promise<Ack<object>>, code: string): Promise<void> {
  const ack = await answer;
  if (ack.ok || ack.error.code !== code) throw new Error(`expected ${code}, got ${JSON.stringify(ack)}`);
}

/**
 * A mixed workload that touches every kind of event: sends, edits, deletes, reactions,
 * membership changes, reads, thread replies, mentions, notification settings, roles, mutes,
 * slow mode, reports, and a few commands the rules refuse. Returns the ids made.
 */
export async function mixedWorkload(clients: Record<'ann' | 'bob' | 'cat' | 'dan', TestClient>, rounds = 3): Promise<{ group: string; direct: string }> {
  const { ann, bob, cat, dan } = clients;
  const { conversation: group } = await ann.ok('conversation:create', { type: 'group', members: ['bob', 'cat'], title: 'mixed' });
  const { conversation: direct } = await bob.ok('conversation:create', { type: 'direct', members: ['dan'] });
  for (let r = 0; r < rounds; r++) {
    const sends = await Promise.all([
      ann.ok('message:send', { conversationId: group.id, clientMsgId: `g-${r}-a`, body: `group ${r} from ann` }),
      bob.ok('message:send', { conversationId: group.id, clientMsgId: `g-${r}-b`, body: `group ${r} from bob` }),
      dan.ok('message:send', { conversationId: direct.id, clientMsgId: `d-${r}-d`, body: `direct ${r} from dan` }),
    ]);
    await ann.ok('message:edit', { conversationId: group.id, seq: sends[0].seq, body: `group ${r} from ann, edited` });
    await bob.ok('reaction:add', { conversationId: group.id, seq: sends[0].seq, emoji: '👍' });
    await cat.ok('reaction:add', { conversationId: group.id, seq: sends[0].seq, emoji: '👍' });
    await cat.ok('reaction:remove', { conversationId: group.id, seq: sends[0].seq, emoji: '👍' });
    await dan.ok('reaction:add', { conversationId: direct.id, seq: sends[2].seq, emoji: ':tada:' });
    // A thread on ann's message, a mention in it, one on the message bob deletes next.
    await cat.ok('message:send', { conversationId: group.id, clientMsgId: `t-${r}-c`, body: `thread ${r} from cat`, threadRootSeq: sends[0].seq, mentions: ['ann'] });
    await ann.ok('message:send', { conversationId: group.id, clientMsgId: `t-${r}-a`, body: `thread ${r} from ann`, threadRootSeq: sends[0].seq });
    await cat.ok('message:send', { conversationId: group.id, clientMsgId: `t-${r}-x`, body: `on bob's ${r}`, threadRootSeq: sends[1].seq, mentions: ['bob', 'ann'] });
    await bob.ok('conversation:notify', { conversationId: group.id, level: r === 1 ? 'all' : 'mentions', ...(r === 2 && { muteUntil: '2999-01-01T00:00:00.000Z' }) });
    // Moderation: bob moderates from the first round on; a report, a mute and slow mode each round.
    if (r === 0) await ann.ok('conversation:set_role', { conversationId: group.id, userId: 'bob', role: 'moderator' });
    await cat.ok('message:report', { conversationId: group.id, seq: sends[0].seq, reason: `report ${r}` });
    await bob.ok('conversation:mute_member', { conversationId: group.id, userId: 'cat', ...(r === 1 && { until: '2999-01-01T00:00:00.000Z' }) });
    await refused(cat.request('message:send', { conversationId: group.id, clientMsgId: `muted-${r}`, body: 'muted' }), 'FORBIDDEN');
    await ann.ok('conversation:unmute_member', { conversationId: group.id, userId: 'cat' });
    await bob.ok('conversation:set_slow_mode', { conversationId: group.id, seconds: 600 });
    await cat.ok('message:send', { conversationId: group.id, clientMsgId: `slow-${r}`, body: `slow ${r}` });
    await refused(cat.request('message:send', { conversationId: group.id, clientMsgId: `slow-${r}-again`, body: 'too soon' }), 'RATE_LIMITED');
    await bob.ok('message:send', { conversationId: group.id, clientMsgId: `slow-${r}-mod`, body: 'a moderator is exempt' });
    if (r < 2) await bob.ok('conversation:set_slow_mode', { conversationId: group.id, seconds: 0 });
    await bob.ok('message:delete', { conversationId: group.id, seq: sends[1].seq });
    await cat.ok('read', { conversationId: group.id, seq: sends[1].seq });
    await dan.ok('read', { conversationId: direct.id, seq: sends[2].seq });
    if (r === 0) await ann.ok('conversation:add_members', { conversationId: group.id, userIds: ['dan'] });
    if (r === 1) await ann.ok('conversation:remove_members', { conversationId: group.id, userIds: ['dan'] });
    if (r === 2) await cat.ok('conversation:remove_members', { conversationId: group.id, userIds: ['cat'] });
  }
  return { group: group.id, direct: direct.id };
}
