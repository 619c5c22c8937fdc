-- One page of a session's history: the `limit` messages just before message `before` (or the
-- newest `limit` when `before` is empty), oldest first. Walks back from the newest message in
-- chunks, so recent pages cost little however long the history is.
-- KEYS[1]  the session's history list (StoredMessage JSON, oldest first)
-- ARGV[1]  before: a message id (only A-Z a-z 0-9 _ -), or '' for the newest page
-- ARGV[2]  limit: messages per page (>= 1)
-- returns  { found, hasMore, json, ... }: found 0 when `before` is not in the history;
--          hasMore 1 when older messages remain before the page
local key = KEYS[1]
local before = ARGV[1]
local limit = tonumber(ARGV[2])
local stop = redis.call('LLEN', key) - 1
if before ~= '' then
  -- JSON.stringify escapes every quote inside a string, so this needle only matches an id field.
  local needle = '"id":"' .. before .. '"'
  local found = -1
  local hi = stop
  while hi >= 0 and found < 0 do
    local lo = math.max(0, hi - 255)
    local rows = redis.call('LRANGE', key, lo, hi)
    for i = #rows, 1, -1 do
      if string.find(rows[i], needle, 1, true) then
        found = lo + i - 1
        break
      end
    end
    hi = lo - 1
  end
  if found < 0 then
    return { 0, 0 }
  end
  stop = found - 1
end
if stop < 0 then
  return { 1, 0 }
end
local start = math.max(0, stop - limit + 1)
local page = { 1, start > 0 and 1 or 0 }
for _, row in ipairs(redis.call('LRANGE', key, start, stop)) do
  page[#page + 1] = row
end
return page
