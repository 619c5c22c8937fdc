-- Writes one frame of an attempt: appended to the reply's stream, then published on the session's
-- channel with its position (`attempt-seq json`), only when the append is this attempt's next one.
-- A fenced attempt (the reply ended, or a newer attempt writes it) writes and publishes nothing;
-- a frame after a lost one is refused, so the stream never has a gap.
-- KEYS[1]  reply meta hash
-- KEYS[2]  reply frames stream
-- KEYS[3]  session channel
-- ARGV[1]  attempt
-- ARGV[2]  the frame's position in the attempt: 1, 2, ... (a token's seq until an event frame, a tool
--          call or sources, takes a position of its own; the meta's `seq` field holds the last one)
-- ARGV[3]  frame JSON
-- ARGV[4]  most frames kept in the stream
-- ARGV[5]  stream TTL in seconds, set with the attempt's first frame
-- ARGV[6]  PUBLISH or SPUBLISH (sharded, on a Redis Cluster)
-- returns  1 written; 2 written before (a command resent after a reconnect); 0 fenced; -1 gap
local m = redis.call('HMGET', KEYS[1], 'attempt', 'status', 'seq')
if m[1] ~= ARGV[1] or m[2] ~= 'streaming' then
  return 0
end
local seq = tonumber(ARGV[2])
local last = tonumber(m[3])
if seq <= last then
  return 2
end
if seq ~= last + 1 then
  return -1
end
local id = ARGV[1] .. '-' .. ARGV[2]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], id, 'f', ARGV[3])
if seq == 1 then
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
redis.call('HSET', KEYS[1], 'seq', seq)
redis.call(ARGV[6], KEYS[3], id .. ' ' .. ARGV[3])
return 1
