-- Ends an attempt with its terminal frame, atomically with what the reply leaves behind: its
-- history entry first, then the session's in-flight slot is freed, then `done` / `error` is
-- written and published. Fenced or gapped attempts change nothing.
-- KEYS[1]  reply meta hash
-- KEYS[2]  reply frames stream
-- KEYS[3]  session channel
-- KEYS[4]  session meta hash
-- KEYS[5]  session history list
-- KEYS[6]  session in-flight slot
-- KEYS[7]  the user's usage hash for today         KEYS[8]  ... for this month
-- KEYS[9]  the fleet's usage hash for today        KEYS[10] ... for this month
-- KEYS[11] today's ranking of users by tokens      KEYS[12] ... this month's
-- KEYS[13] the user's budget reservations hash
-- ARGV[1]  attempt
-- ARGV[2]  entry seq of the terminal frame (the last token's seq + 1)
-- ARGV[3]  frame JSON
-- ARGV[4]  status: done, cancelled or error
-- ARGV[5]  history message JSON, or '' for none
-- ARGV[6]  retention in seconds of the finished reply's meta and frames
-- ARGV[7]  session TTL in seconds
-- ARGV[8]  most history messages kept
-- ARGV[9]  most history bytes kept
-- ARGV[10] the reply's messageId (the in-flight slot is freed only if it still holds it)
-- ARGV[11] most frames kept in the stream
-- ARGV[12] '1' to record usage, '0' not to (then ARGV[13..20] are ignored)
-- ARGV[13] userId (the ledger's subject)
-- ARGV[14] model
-- ARGV[15] prompt tokens            ARGV[16] completion tokens
-- ARGV[17] tokens served from the cache or a coalesced reply
-- ARGV[18] cost in nano-dollars
-- ARGV[19] TTL of day keys, seconds ARGV[20] TTL of month keys, seconds
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
if ARGV[12] == '1' then
  record_usage(KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13], ARGV[13], ARGV[10], ARGV[14],
    tonumber(ARGV[15]), tonumber(ARGV[16]), tonumber(ARGV[17]), tonumber(ARGV[18]), ARGV[19], ARGV[20])
end
if redis.call('GET', KEYS[6]) == ARGV[10] then
  redis.call('DEL', KEYS[6])
end
local id = ARGV[1] .. '-' .. ARGV[2]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[11], id, 'f', ARGV[3])
redis.call('HSET', KEYS[1], 'status', ARGV[4], 'seq', seq)
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('PUBLISH', KEYS[3], id .. ' ' .. ARGV[3])
return 1
