-- Accepts a regenerate: the session's last user message is answered again by a new reply. With the
-- one-reply-in-flight slot free, drops the last history entry if it is an assistant reply, takes
-- the slot and registers the new reply as queued, all or nothing.
-- KEYS[1]  session meta hash
-- KEYS[2]  session history list
-- KEYS[3]  session in-flight slot (string: the messageId of the reply in flight)
-- KEYS[4]  reply meta hash
-- ARGV[1]  the new reply's messageId
-- ARGV[2]  in-flight slot TTL in ms (a bound if nobody ever releases it)
-- ARGV[3]  session TTL in seconds
-- ARGV[4]  reply meta TTL in seconds
-- returns  {1, userMessageId} accepted; {0, holder} another reply is in flight;
--          {-1} the session does not exist; {-2} no user message to answer
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1}
end
local holder = redis.call('GET', KEYS[3])
if holder then
  return {0, holder}
end
local last = redis.call('LINDEX', KEYS[2], -1)
if not last then
  return {-2}
end
local drop = cjson.decode(last).role == 'assistant'
-- The user message to answer: the newest one before what is dropped, read back in chunks.
local answer = nil
local hi = redis.call('LLEN', KEYS[2]) - (drop and 2 or 1)
while hi >= 0 and not answer do
  local lo = math.max(0, hi - 63)
  local rows = redis.call('LRANGE', KEYS[2], lo, hi)
  for i = #rows, 1, -1 do
    local m = cjson.decode(rows[i])
    if m.role == 'user' then
      answer = m.id
      break
    end
  end
  hi = lo - 1
end
if not answer then
  return {-2}
end
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
if drop then
  redis.call('RPOP', KEYS[2])
  redis.call('HINCRBY', KEYS[1], 'historyBytes', -#last)
end
redis.call('HSET', KEYS[4], 'status', 'queued', 'attempt', 0, 'seq', 0)
redis.call('EXPIRE', KEYS[4], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {1, answer}
