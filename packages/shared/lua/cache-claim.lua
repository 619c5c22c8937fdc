-- A request's cache read and its coalescing lock in one call (both keys carry the request's hash
-- as their hash tag, so one slot). The lock is taken if nobody holds it; the cache is read after
-- it is taken, so a leader that finished before the lock was ours is found there. On a hit the
-- lock, if this call took it, is let go again at once: the reply comes from the cache.
-- KEYS[1]  the coalescing lock
-- KEYS[2]  the cached reply
-- ARGV[1]  this reply's lock value ("messageId sessionId")
-- ARGV[2]  the lock's lease in ms
-- ARGV[3]  '1': read the cache too; '0': the lock only
-- returns  { who held the lock before (false: nobody), the cached reply (false: none) }
local holder = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX', 'GET')
local hit = false
if ARGV[3] == '1' then
  hit = redis.call('GET', KEYS[2])
  if hit and (not holder or holder == ARGV[1]) then
    redis.call('DEL', KEYS[1])
  end
end
return { holder, hit }
