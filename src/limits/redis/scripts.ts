/**
 * Lua scripts for the Redis limits backend. Each runs atomically in Redis, so concurrent
 * requests on any number of gateway instances see each other's reservations. Numbers
 * returned to Redis are integers (Lua numbers are truncated), money is integer nano-USD.
 */

/**
 * admit — KEYS: rate keys (nr), budget keys (nb), budget index keys (nb).
 * ARGV: now, nr, nb, amount, then per rate [limit, period, cost], per budget
 * [hard, bucketMs, buckets, ttl, subject].
 * Returns {ok, per rate: allowed, remaining, resetMs, retryMs, per budget: allowed, spent, retryMs, bucket}.
 */
export const ADMIT_LUA = `
local now = tonumber(ARGV[1])
local nr = tonumber(ARGV[2])
local nb = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local out = {1}
local ok = 1
local tats = {}
local a = 5
for i = 1, nr do
  local limit = tonumber(ARGV[a])
  local period = tonumber(ARGV[a + 1])
  local cost = tonumber(ARGV[a + 2])
  a = a + 3
  local t = period / limit
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local nxt = tat + cost * t
  local diff = nxt - now
  if diff > period then
    ok = 0
    local rem = math.floor((period - (tat - now)) / t)
    if rem < 0 then rem = 0 end
    out[#out + 1] = 0
    out[#out + 1] = rem
    out[#out + 1] = math.ceil(tat - now)
    out[#out + 1] = math.ceil(diff - period)
  else
    out[#out + 1] = 1
    out[#out + 1] = math.floor((period - diff) / t)
    out[#out + 1] = math.ceil(diff)
    out[#out + 1] = 0
  end
  tats[i] = nxt
end
local cur = {}
local b0 = a
for j = 1, nb do
  local key = KEYS[nr + j]
  local hard = tonumber(ARGV[a])
  local bucketMs = tonumber(ARGV[a + 1])
  local buckets = tonumber(ARGV[a + 2])
  a = a + 5
  local s = 0
  local retry = 0
  local c = 0
  if bucketMs == 0 then
    s = tonumber(redis.call('GET', key) or '0')
  else
    c = math.floor(now / bucketMs)
    local all = redis.call('HGETALL', key)
    local oldest = c
    for k = 1, #all, 2 do
      local b = tonumber(all[k])
      if b <= c - buckets then
        redis.call('HDEL', key, all[k])
      else
        s = s + tonumber(all[k + 1])
        if b < oldest then oldest = b end
      end
    end
    retry = (oldest + buckets + 1) * bucketMs - now
  end
  cur[j] = c
  if s + amount <= hard then
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
    ok = 0
  end
  out[#out + 1] = string.format('%.0f', s)
  out[#out + 1] = math.ceil(retry)
  out[#out + 1] = string.format('%.0f', c)
end
out[1] = ok
if ok == 1 then
  for i = 1, nr do
    redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now) + 1)
  end
  a = b0
  for j = 1, nb do
    local key = KEYS[nr + j]
    local bucketMs = tonumber(ARGV[a + 1])
    local ttl = ARGV[a + 3]
    local subject = ARGV[a + 4]
    a = a + 5
    if amount > 0 then
      if bucketMs == 0 then
        redis.call('INCRBY', key, ARGV[4])
      else
        redis.call('HINCRBY', key, string.format('%.0f', cur[j]), ARGV[4])
      end
      redis.call('PEXPIRE', key, ttl)
    end
    -- Subjects of scoped budgets are indexed for the budgets report (a global one has one subject).
    if subject ~= '*' then
      local idx = KEYS[nr + nb + j]
      redis.call('ZADD', idx, now, subject)
      redis.call('PEXPIRE', idx, 3024000000)
    end
  end
end
return out
`;

/**
 * settle — KEYS: rate keys (nr), budget keys (nb), alert flag keys (nb).
 * ARGV: now, nr, nb, then per rate [limit, period, delta], per budget
 * [delta, bucketMs, buckets, bucket, soft, ttl].
 * Returns per budget {total, alerted}.
 */
export const SETTLE_LUA = `
local now = tonumber(ARGV[1])
local nr = tonumber(ARGV[2])
local nb = tonumber(ARGV[3])
local a = 4
for i = 1, nr do
  local limit = tonumber(ARGV[a])
  local period = tonumber(ARGV[a + 1])
  local delta = tonumber(ARGV[a + 2])
  a = a + 3
  if delta ~= 0 then
    local t = period / limit
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if tat == 0 and delta > 0 then tat = now end
    if tat > 0 then
      local nxt = tat + delta * t
      if nxt <= now then
        redis.call('DEL', KEYS[i])
      else
        redis.call('SET', KEYS[i], string.format('%.3f', nxt), 'PX', math.ceil(nxt - now) + 1)
      end
    end
  end
end
local out = {}
for j = 1, nb do
  local key = KEYS[nr + j]
  local delta = ARGV[a]
  local d = tonumber(delta)
  local bucketMs = tonumber(ARGV[a + 1])
  local buckets = tonumber(ARGV[a + 2])
  local bucket = ARGV[a + 3]
  local soft = tonumber(ARGV[a + 4])
  local ttl = ARGV[a + 5]
  a = a + 6
  local total = 0
  if bucketMs == 0 then
    if d > 0 or (d < 0 and redis.call('EXISTS', key) == 1) then
      redis.call('INCRBY', key, delta)
      if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl) end
    end
    total = tonumber(redis.call('GET', key) or '0')
  else
    if d > 0 or (d < 0 and redis.call('HEXISTS', key, bucket) == 1) then
      redis.call('HINCRBY', key, bucket, delta)
      if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl) end
    end
    local c = math.floor(now / bucketMs)
    local vals = redis.call('HGETALL', key)
    for k = 1, #vals, 2 do
      if tonumber(vals[k]) > c - buckets then total = total + tonumber(vals[k + 1]) end
    end
  end
  out[#out + 1] = string.format('%.0f', total)
  if soft > 0 and total >= soft and redis.call('SET', KEYS[nr + nb + j], '1', 'NX', 'PX', ttl) then
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
`;

/** spend — KEYS: budget keys. ARGV: now, then per key [bucketMs, buckets]. Returns totals. */
export const SPEND_LUA = `
local now = tonumber(ARGV[1])
local out = {}
for j = 1, #KEYS do
  local bucketMs = tonumber(ARGV[2 * j])
  local buckets = tonumber(ARGV[2 * j + 1])
  local total = 0
  if bucketMs == 0 then
    total = tonumber(redis.call('GET', KEYS[j]) or '0')
  else
    local c = math.floor(now / bucketMs)
    local vals = redis.call('HGETALL', KEYS[j])
    for k = 1, #vals, 2 do
      if tonumber(vals[k]) > c - buckets then total = total + tonumber(vals[k + 1]) end
    end
  end
  out[#out + 1] = string.format('%.0f', total)
end
return out
`;
