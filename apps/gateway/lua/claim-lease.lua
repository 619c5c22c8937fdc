-- Takes one lease in a bounded set of leases (e.g. a session's open sockets), dropping expired
-- ones first, so a holder that died without releasing stops counting once its lease expires.
-- KEYS[1]  sorted set of leases: member = holder id, score = expiry (ms since the epoch)
-- ARGV[1]  now (ms)
-- ARGV[2]  the new lease's expiry (ms)
-- ARGV[3]  the new lease's member
-- ARGV[4]  most leases allowed at once
-- ARGV[5]  key lifetime (ms), renewed with every lease
-- returns  1 if taken, 0 if the set is full
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
