-- Opens the next attempt at a reply, unless the reply has ended (deadline, cancel while queued,
-- session deleted) or is unknown: a worker calls it before anything reaches the model. An
-- attempt after the first starts with its `reset` frame, written and published here.
-- KEYS[1]  reply meta hash
-- KEYS[2]  reply frames stream
-- KEYS[3]  session channel
-- ARGV[1]  the reply's messageId
-- ARGV[2]  TTL in seconds of the meta and the stream while the reply runs
-- ARGV[3]  most frames kept in the stream
-- ARGV[4]  PUBLISH or SPUBLISH (sharded, on a Redis Cluster)
-- returns  {attempt, cancelRequested 0|1}; {-1} unknown reply; {-2, status} the reply has ended
local m = redis.call('HMGET', KEYS[1], 'status', 'cancel')
if not m[1] then
  return {-1}
end
if m[1] == 'done' or m[1] == 'cancelled' or m[1] == 'error' then
  return {-2, m[1]}
end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempt', 1)
redis.call('HSET', KEYS[1], 'status', 'streaming', 'seq', 0)
redis.call('EXPIRE', KEYS[1], ARGV[2])
if attempt > 1 then
  local id = attempt .. '-0'
  local json = '{"type":"reset","messageId":"' .. ARGV[1] .. '","attempt":' .. attempt .. '}'
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], id, 'f', json)
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  redis.call(ARGV[4], KEYS[3], id .. ' ' .. json)
end
local cancel = 0
if m[2] == '1' then
  cancel = 1
end
return {attempt, cancel}
