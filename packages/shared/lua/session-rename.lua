-- Sets a session's title, if the session still exists (a deleted or expired one must not be
-- revived as a hash with a title and no TTL), and renews its TTL.
-- KEYS[1]  session meta hash
-- KEYS[2]  session history list
-- ARGV[1]  the title
-- ARGV[2]  session TTL in seconds
-- returns  1 renamed; 0 the session does not exist
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'title', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
