-- Included at the top of every script that writes a session's history: the one rule for it.
-- Appends a message if the session still exists (a deleted session must not be revived), keeps
-- the history within a message count and a byte total (oldest dropped first; the byte total
-- lives in the session hash as `historyBytes`), and renews the session's TTL.
-- returns the new history length, or -1 when the session does not exist
local function append_history(meta_key, history_key, json, ttl, max_count, max_bytes)
  if redis.call('EXISTS', meta_key) == 0 then
    return -1
  end
  local n = redis.call('RPUSH', history_key, json)
  local bytes = redis.call('HINCRBY', meta_key, 'historyBytes', #json)
  while n > 1 and (n > max_count or bytes > max_bytes) do
    local dropped = redis.call('LPOP', history_key)
    bytes = redis.call('HINCRBY', meta_key, 'historyBytes', -#dropped)
    n = n - 1
  end
  redis.call('EXPIRE', meta_key, ttl)
  redis.call('EXPIRE', history_key, ttl)
  return n
end

