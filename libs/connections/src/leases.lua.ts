/**
 * Lease scripts, atomic in Redis so that each presence transition is reported exactly once
 * however many gateways race. Keys: the user's leases (zset), presence state, last seen:
 * all three carry the user id as their hash tag, so each script touches one Redis Cluster
 * slot. A connection's lease is a member `node|epoch|connection` whose score is its
 * expiry in ms. The lease index (where the sweeper looks) is kept by separate commands.
 */

/**
 * One lease up: `leases` is the user's leases key, `state` its presence state key. Returns
 * 1 when the user just came online, 0 when it was online already, -1 when the lease is new
 * and the user already holds `cap` live ones: counted and added in one step, so racing
 * handshakes cannot pass the cap together. Renewing a lease the user holds is never refused.
 */
const UP = `
local function up(leases, state, member, now, untilMs, cap)
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  if cap > 0 and not redis.call('ZSCORE', leases, member) and redis.call('ZCARD', leases) >= cap then
    return -1
  end
  redis.call('ZADD', leases, untilMs, member)
  local last = redis.call('ZRANGE', leases, -1, -1, 'WITHSCORES')[2]
  redis.call('PEXPIREAT', leases, last)
  if redis.call('GET', state) ~= 'online' then
    redis.call('SET', state, 'online')
    return 1
  end
  return 0
end
`;

/** ARGV: member, now, until, cap (0: none). Returns what `up` does. */
export const LEASE_UP = `${UP}
return up(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]))
`;

/**
 * Many leases in one script, on one Redis (not a cluster: their users' keys lie in many
 * slots): one command instead of one per lease, which costs the gateway a few KiB of
 * client objects each. KEYS: each lease's leases and presence state keys in turn. ARGV:
 * now, until, cap, then each lease's member. Returns `up`'s answer for each, in order.
 */
export const LEASE_UP_MANY = `${UP}
local now, untilMs, cap = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV do
  local k = (i - 4) * 2
  out[i - 3] = up(KEYS[k + 1], KEYS[k + 2], ARGV[i], now, untilMs, cap)
end
return out
`;

/**
 * ARGV: member ('' to only expire), now, lastSeenTtlMs. Returns -1 when the user just went
 * offline, 0 when it has no lease (and was offline already), else the latest lease expiry.
 */
export const LEASE_DOWN = `
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) > 0 then
  return tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
end
if redis.call('GET', KEYS[2]) == 'online' then
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
  return -1
end
return 0
`;

/**
 * On one lease index shard. ARGV: now, userId. Drops the user from the index unless a
 * connect raised its entry past `now` meanwhile (connects write the index first).
 */
export const INDEX_DROP_IF_DUE = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if score and tonumber(score) <= tonumber(ARGV[1]) then
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/**
 * Route feed. KEYS: the feed stream, its counter (one slot). ARGV: max length, the users
 * whose leases changed, joined by newline. Numbers the entry, so a reader that missed one
 * (trimmed away, or Redis lost its data) can tell.
 */
export const FEED_APPEND = `
local n = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'n', n, 'u', ARGV[2])
return n
`;
