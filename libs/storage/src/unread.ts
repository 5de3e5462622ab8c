/**
 * A member's unread messages, derived from the read model and never counted up: the
 * messages after its marker (the dense message counter less the number of the last
 * message at or below the marker) less its own among them, which never count. Its own are
 * a range of timeline_senders, which grows with what the user sent after its marker
 * (usually nothing: reading moves the marker past them). `m` is the members row, `c` its
 * conversation. Own messages already moved to the warm or cold tier are not in that
 * index; they count only for a marker older than the hot tier (docs/protocol.md).
 */
export const UNREAD = `GREATEST(0, c.message_count - m.read_count - (
  SELECT count(*) FROM timeline o WHERE o.conversation_id = m.conversation_id AND o.kind = 'message'
     AND o.payload->>'senderId' = m.user_id AND o.seq > m.last_read_seq))`;

/**
 * A member's unread mentions, derived the same way: the mentions of it past its marker
 * (mentions rows never name the sender, and a deleted message's are gone), from this
 * membership only.
 */
export const UNREAD_MENTIONS = `(SELECT count(*) FROM mentions x
  WHERE x.conversation_id = m.conversation_id AND x.user_id = m.user_id AND x.seq > m.last_read_seq AND x.seq >= m.joined_seq)`;
