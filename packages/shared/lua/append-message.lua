-- Appends one message to a session's history, caps its length and renews the session's TTL,
-- atomically, only if the session still exists (a deleted session must not be revived).
-- KEYS[1]  session meta hash
-- KEYS[2]  session history list
-- ARGV[1]  message JSON
-- ARGV[2]  TTL in seconds
-- ARGV[3]  maximum number of messages kept
-- returns  the new history length, or -1 when the session does not exist
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local n = redis.call('RPUSH', KEYS[2], ARGV[1])
local cap = tonumber(ARGV[3])
if n > cap then
  redis.call('LTRIM', KEYS[2], n - cap, -1)
  n = cap
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return n
