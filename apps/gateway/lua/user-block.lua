-- Blocks a user (or, with an empty entry, unblocks them) and bumps the block list's version, so
-- every gateway reloads its copy of the list.
-- KEYS[1]  hash: userId → block entry JSON
-- KEYS[2]  string: the list's version
-- ARGV[1]  the userId
-- ARGV[2]  the block entry JSON; '' unblocks
-- returns  1 the list changed; 0 it did not (unblocking a user who was not blocked)
local changed
if ARGV[2] == '' then
  changed = redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  changed = 1
end
if changed == 1 then
  redis.call('INCR', KEYS[2])
end
return changed
