/**
 * The permit scripts. Time comes from the Redis server (TIME), never from the callers: the
 * environments of a fleet do not share a clock, and a thawed one may be behind.
 *
 * KEYS[1]: the leases (a sorted set: lease id → expiry, ms). KEYS[2]: GCRA's theoretical arrival
 * time (ms). Both carry the same hash tag, so the script also runs on a Redis Cluster.
 */

/**
 * ARGV: lease id, lease length (ms), concurrency (0: none), emission interval (ms per permit,
 * 0: no rate), burst tolerance (ms). Returns { granted (1|0), limit, retry after (ms), held }.
 * A denied call changes nothing; a granted one records the lease and advances the arrival time.
 */
export const acquireScript = `
-- Redis before 7 replicates scripts verbatim unless told to replicate effects (needed after TIME).
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local leaseMs = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local tolerance = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if limit > 0 and held >= limit then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return { 0, 'concurrency', tonumber(first[2]) - now, held }
end
local tat = now
if interval > 0 then
  tat = math.max(tonumber(redis.call('GET', KEYS[2]) or now), now)
  local allowedAt = tat - tolerance
  if now < allowedAt then return { 0, 'rate', allowedAt - now, held } end
  redis.call('SET', KEYS[2], tat + interval, 'PX', math.ceil(tat + interval - now) + 1000)
end
redis.call('ZADD', KEYS[1], now + leaseMs, ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(last[2])) + 1000)
return { 1, 'ok', 0, held + 1 }
`
