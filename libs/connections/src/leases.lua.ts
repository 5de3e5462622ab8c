/**
 * Lease scripts, atomic in Redis so that each presence transition is reported exactly once
 * however many gateways race. Keys: the user's leases (zset), presence state, last seen,
 * the global lease index. A connection's lease is a member `node|epoch|connection` whose
 * score is its expiry in ms.
 */

/** ARGV: member, now, until, userId. Returns 1 when the user just came online. */
export const LEASE_UP = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
redis.call('PEXPIREAT', KEYS[1], last)
redis.call('ZADD', KEYS[4], last, ARGV[4])
if redis.call('GET', KEYS[2]) ~= 'online' then
  redis.call('SET', KEYS[2], 'online')
  return 1
end
return 0
`;

/** ARGV: member ('' to only expire), now, userId, lastSeenTtlMs. Returns 1 when the user just went offline. */
export const LEASE_DOWN = `
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) > 0 then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
  redis.call('ZADD', KEYS[4], last, ARGV[3])
  return 0
end
redis.call('ZREM', KEYS[4], ARGV[3])
if redis.call('GET', KEYS[2]) == 'online' then
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[4])
  return 1
end
return 0
`;
