-- Writes one instance's heartbeat (or, with an empty record, removes it: a clean shutdown) and
-- forgets instances silent for too long (crashed: nobody removed them), so the list stays the
-- fleet's. Both keys carry the fleet's hash tag, and expire once the whole fleet is silent.
-- KEYS[1]  hash: instance → heartbeat record JSON
-- KEYS[2]  sorted set: instance → when it last wrote (ms)
-- ARGV[1]  the instance
-- ARGV[2]  its record JSON; '' removes it
-- ARGV[3]  now (ms)
-- ARGV[4]  instances last seen before this (ms) are forgotten
-- ARGV[5]  how long the keys outlive the last heartbeat (ms)
-- returns  how many silent instances were forgotten
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
-- A bounded batch per call (unpack has a stack limit); the next heartbeat takes the rest.
local silent = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4], 'LIMIT', 0, 500)
if #silent > 0 then
  redis.call('HDEL', KEYS[1], unpack(silent))
  redis.call('ZREM', KEYS[2], unpack(silent))
end
return #silent
