-- Ends an attempt with its terminal frame, atomically with what the reply leaves behind: its
-- history entry first, then the session's in-flight slot is freed, then `done` / `error` is
-- written and published. Fenced or gapped attempts change nothing.
-- KEYS[1]  reply meta hash
-- KEYS[2]  reply frames stream
-- KEYS[3]  session channel
-- KEYS[4]  session meta hash
-- KEYS[5]  session history list
-- KEYS[6]  session in-flight slot
-- ARGV[1]  attempt
-- ARGV[2]  position of the terminal frame (the last frame's + 1)
-- ARGV[3]  frame JSON
-- ARGV[4]  status: done, cancelled or error
-- ARGV[5]  history message JSON, or '' for none
-- ARGV[6]  retention in seconds of the finished reply's meta and frames
-- ARGV[7]  session TTL in seconds
-- ARGV[8]  most history messages kept
-- ARGV[9]  most history bytes kept
-- ARGV[10] the reply's messageId (the in-flight slot is freed only if it still holds it)
-- ARGV[11] most frames kept in the stream
-- ARGV[12] the reply's usage as the ledger records it ("userId model p c k cost"), or ''
-- ARGV[13] PUBLISH or SPUBLISH (sharded, on a Redis Cluster)
-- returns  1 written; 2 written before (a resend); 0 fenced; -1 gap
local m = redis.call('HMGET', KEYS[1], 'attempt', 'status', 'seq')
if m[1] ~= ARGV[1] then
  return 0
end
local seq = tonumber(ARGV[2])
local last = tonumber(m[3])
if m[2] ~= 'streaming' then
  if m[2] == ARGV[4] and last == seq then
    return 2
  end
  return 0
end
if seq ~= last + 1 then
  return -1
end
if ARGV[5] ~= '' then
  append_history(KEYS[4], KEYS[5], ARGV[5], ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]))
end
if redis.call('GET', KEYS[6]) == ARGV[10] then
  redis.call('DEL', KEYS[6])
end
local id = ARGV[1] .. '-' .. ARGV[2]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[11], id, 'f', ARGV[3])
redis.call('HSET', KEYS[1], 'status', ARGV[4], 'seq', seq)
if ARGV[12] ~= '' then
  redis.call('HSET', KEYS[1], 'usage', ARGV[12])
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call(ARGV[13], KEYS[3], id .. ' ' .. ARGV[3])
return 1
