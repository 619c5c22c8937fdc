-- Deletes a lock only if it still holds the caller's token, so a late finisher cannot
-- release a lock that a newer reply took.
-- KEYS[1]  the lock key (e.g. a session's inflight key)
-- ARGV[1]  the token the caller set (a messageId)
-- returns  1 if released, 0 if the lock was absent or held by another token
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
