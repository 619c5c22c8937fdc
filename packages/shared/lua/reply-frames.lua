-- Writes frames of attempts, in order, each one as alone: appended to its reply's stream, then
-- published on its session's channel with its position (`attempt-seq json`), only when the append
-- is its attempt's next one. A fenced attempt (the reply ended, or a newer attempt writes it)
-- writes and publishes nothing; a frame after a lost one is refused, so a stream never has a gap.
-- The frames a worker's clock tick flushes for all its replies go in one call (on a cluster, those
-- of one slot), one command where there was one per frame; each frame gets its own answer.
-- KEYS[3i-2]   frame i's reply meta hash
-- KEYS[3i-1]   frame i's reply frames stream
-- KEYS[3i]     frame i's session channel
-- ARGV[1]      most frames kept in a stream
-- ARGV[2]      stream TTL in seconds, set with an attempt's first frame
-- ARGV[3]      PUBLISH or SPUBLISH (sharded, on a Redis Cluster)
-- ARGV[3i+1]   frame i's attempt
-- ARGV[3i+2]   frame i's position in its attempt: 1, 2, ... (a token's seq until an event frame, a
--              tool call or sources, takes a position of its own; the meta's `seq` holds the last one)
-- ARGV[3i+3]   frame i's JSON
-- returns      per frame: 1 written; 2 written before (a command resent after a reconnect); 0 fenced; -1 gap
local codes = {}
for i = 1, #KEYS / 3 do
  local meta, stream = KEYS[3 * i - 2], KEYS[3 * i - 1]
  local attempt, position, json = ARGV[3 * i + 1], ARGV[3 * i + 2], ARGV[3 * i + 3]
  local m = redis.call('HMGET', meta, 'attempt', 'status', 'seq')
  local code = 0
  if m[1] == attempt and m[2] == 'streaming' then
    local seq = tonumber(position)
    local last = tonumber(m[3])
    if seq <= last then
      code = 2
    elseif seq ~= last + 1 then
      code = -1
    else
      local id = attempt .. '-' .. position
      redis.call('XADD', stream, 'MAXLEN', '~', ARGV[1], id, 'f', json)
      if seq == 1 then
        redis.call('EXPIRE', stream, ARGV[2])
      end
      redis.call('HSET', meta, 'seq', seq)
      redis.call(ARGV[3], KEYS[3 * i], id .. ' ' .. json)
      code = 1
    end
  end
  codes[i] = code
end
return codes
