/**
 * The permit scripts. Time comes from the Redis server (TIME), never from the callers: the
 * environments of a fleet do not share a clock, and a thawed one may be behind. (A test may pass
 * its own clock instead, ARGV[7].)
 *
 * KEYS[1]: the leases (a sorted set: lease id → expiry, ms). KEYS[2]: GCRA's theoretical arrival
 * time (ms). KEYS[3]: the waiters in the order they first asked (lease id → first ask, ms).
 * KEYS[4]: the waiters by when they count as gone (lease id → last ask + their staleness, ms).
 * All carry the same hash tag, so the scripts also run on a Redis Cluster.
 */

/**
 * ARGV: lease id, lease length (ms), concurrency (0: none), emission interval (ms per permit,
 * 0: no rate), burst tolerance (ms), staleness (ms; 0: the caller will not ask again, so it does
 * not queue), clock (ms; 0: the server's TIME).
 * Returns { granted (1|0), limit, retry after (ms), held, ahead }: `ahead` is how many waiters are
 * served before this caller.
 *
 * Waiters are served first come, first served: a permit is granted only when it is free for every
 * waiter ahead of the caller as well. Without the queue the longest waiters, whose jittered backoff
 * has grown, lose every race to newcomers polling at the base delay, and run out of time (a
 * throttled SQS batch burns a receive towards the dead-letter queue).
 */
export const acquireScript = `
-- Redis before 7 replicates scripts verbatim unless told to replicate effects (needed after TIME).
if redis.replicate_commands then redis.replicate_commands() end
local now = tonumber(ARGV[7])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local id = ARGV[1]
local leaseMs = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local tolerance = tonumber(ARGV[5])
local staleMs = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
-- Waiters that stopped asking (gave up without a word, or were frozen) leave the queue.
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)) do
  redis.call('ZREM', KEYS[3], gone)
  redis.call('ZREM', KEYS[4], gone)
end
local held = redis.call('ZCARD', KEYS[1])
local rank = redis.call('ZRANK', KEYS[3], id)
local ahead = rank or redis.call('ZCARD', KEYS[3])
local refused, retry = nil, 0
if limit > 0 and held + ahead >= limit then
  refused = 'concurrency'
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  retry = first[2] and (tonumber(first[2]) - now) or 0
end
local tat = now
if not refused and interval > 0 then
  tat = math.max(tonumber(redis.call('GET', KEYS[2]) or now), now)
  -- The waiters ahead take the permits due before this caller's.
  local allowedAt = tat + ahead * interval - tolerance
  if now < allowedAt then
    refused = 'rate'
    retry = allowedAt - now
  end
end
if refused then
  if staleMs > 0 then
    if not rank then redis.call('ZADD', KEYS[3], now, id) end
    redis.call('ZADD', KEYS[4], now + staleMs, id)
    local last = redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')
    redis.call('PEXPIRE', KEYS[3], math.ceil(tonumber(last[2]) - now) + 1000)
    redis.call('PEXPIRE', KEYS[4], math.ceil(tonumber(last[2]) - now) + 1000)
  end
  return { 0, refused, retry, held, ahead }
end
if interval > 0 then
  redis.call('SET', KEYS[2], tat + interval, 'PX', math.ceil(tat + interval - now) + 1000)
end
if rank then
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
end
redis.call('ZADD', KEYS[1], now + leaseMs, id)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
-- Relative to the script's clock, so a key never outlives its last lease by more than a second.
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(last[2]) - now) + 1000)
return { 1, 'ok', 0, held + 1, 0 }
`

/**
 * KEYS as above (leases, waiters, waiters' staleness). ARGV: lease id. Removes the lease and the
 * caller's place in the queue, and says whether the lease was still there (0: it had expired, and
 * its slot may be another holder's now: fencing by lease id).
 */
export const releaseScript = `
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return redis.call('ZREM', KEYS[1], ARGV[1])
`
