-- Accepts a user message: takes the session's one-reply-in-flight slot, appends the message to
-- the history and registers its reply as queued, all or nothing. A session with no title yet (its
-- first message, unless renamed before) takes the one given.
-- KEYS[1]  session meta hash
-- KEYS[2]  session history list
-- KEYS[3]  session in-flight slot (string: the messageId of the reply in flight)
-- KEYS[4]  reply meta hash
-- ARGV[1]  the reply's messageId
-- ARGV[2]  the user message JSON
-- ARGV[3]  in-flight slot TTL in ms (a bound if nobody ever releases it)
-- ARGV[4]  session TTL in seconds
-- ARGV[5]  most history messages kept
-- ARGV[6]  most history bytes kept
-- ARGV[7]  reply meta TTL in seconds
-- ARGV[8]  the title the message gives a session that has none
-- returns  {1} accepted; {0, holder} another reply is in flight; {-1} the session does not exist
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1}
end
if not redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[3], 'NX') then
  return {0, redis.call('GET', KEYS[3]) or ''}
end
append_history(KEYS[1], KEYS[2], ARGV[2], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]))
redis.call('HSETNX', KEYS[1], 'title', ARGV[8])
redis.call('HSET', KEYS[4], 'status', 'queued', 'attempt', 0, 'seq', 0)
redis.call('EXPIRE', KEYS[4], ARGV[7])
return {1}
