-- Included by the ledger scripts: the one rule for adding a reply's usage to a usage hash.
-- Fields: p prompt tokens, c completion tokens, k tokens served from the cache or a coalesced
-- reply, n replies, $ cost in nano-dollars; `m:<model>:<field>` the same per model.
local function add_usage(key, model, prompt, completion, cached, cost, ttl)
  local fields = { p = prompt, c = completion, k = cached, n = 1 }
  fields['$'] = cost
  for f, v in pairs(fields) do
    if v ~= 0 then
      redis.call('HINCRBY', key, f, v)
      redis.call('HINCRBY', key, 'm:' .. model .. ':' .. f, v)
    end
  end
  redis.call('EXPIRE', key, ttl)
end

