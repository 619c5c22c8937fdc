-- Records a session's last activity in its user's index of sessions: the newest entries are
-- kept, and the index lives as long as its newest session at least.
-- KEYS[1]  sorted set: sessionId → last activity (ms)
-- ARGV[1]  sessionId
-- ARGV[2]  now (ms); an older time never moves an entry back
-- ARGV[3]  most entries kept (the oldest go first)
-- ARGV[4]  the session's idle TTL, s
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return 1
