-- Ends a reply from outside its worker (its deadline passed, it was cancelled while queued, its
-- session was deleted). The terminal frame goes to the fence position, after any attempt's, and
-- the status turns final, so the worker's next write is refused and it leaves the reply alone.
-- KEYS[1]  reply meta hash
-- KEYS[2]  reply frames stream
-- KEYS[3]  session channel
-- KEYS[4]  session meta hash
-- KEYS[5]  session history list
-- KEYS[6]  session in-flight slot
-- ARGV[1]  frame JSON
-- ARGV[2]  status: cancelled or error
-- ARGV[3]  retention in seconds of the ended reply's meta and frames
-- ARGV[4]  the reply's messageId (the in-flight slot is freed only if it still holds it)
-- ARGV[5]  history message JSON, or '' for none
-- ARGV[6]  session TTL in seconds
-- ARGV[7]  most history messages kept
-- ARGV[8]  most history bytes kept
-- ARGV[9]  '1' to publish the frame, '0' to store it only
-- ARGV[10] the fence position (`attempt-seq`)
-- ARGV[11] PUBLISH or SPUBLISH (sharded, on a Redis Cluster)
-- returns  1 ended here; 0 it had ended already; -1 unknown reply (the slot is still freed)
if redis.call('GET', KEYS[6]) == ARGV[4] then
  redis.call('DEL', KEYS[6])
end
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return -1
end
if status == 'done' or status == 'cancelled' or status == 'error' then
  return 0
end
if ARGV[5] ~= '' then
  append_history(KEYS[4], KEYS[5], ARGV[5], ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]))
end
redis.call('XADD', KEYS[2], ARGV[10], 'f', ARGV[1])
redis.call('HSET', KEYS[1], 'status', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if ARGV[9] == '1' then
  redis.call(ARGV[11], KEYS[3], ARGV[10] .. ' ' .. ARGV[1])
end
return 1
