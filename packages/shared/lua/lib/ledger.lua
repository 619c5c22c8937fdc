-- Included by the scripts that finish a reply: the one rule for adding a reply to the usage
-- ledger. Adds the reply's tokens, cost and count to the user's day and month, per model too,
-- and to the fleet's; ranks the user among today's and this month's heaviest (by tokens); and
-- drops the user's budget reservation for the reply, which this usage replaces.
-- Fields: p prompt tokens, c completion tokens, k tokens served from the cache or a coalesced
-- reply, n replies, $ cost in nano-dollars; `m:<model>:<field>` the same per model.
local function record_usage(day, month, fleet_day, fleet_month, top_day, top_month, reservations,
                            user_id, reply_id, model, prompt, completion, cached, cost, day_ttl, month_ttl)
  local fields = { p = prompt, c = completion, k = cached, n = 1 }
  fields['$'] = cost
  for _, key in ipairs({ day, month, fleet_day, fleet_month }) do
    for f, v in pairs(fields) do
      if v ~= 0 then
        redis.call('HINCRBY', key, f, v)
        redis.call('HINCRBY', key, 'm:' .. model .. ':' .. f, v)
      end
    end
  end
  redis.call('EXPIRE', day, day_ttl)
  redis.call('EXPIRE', fleet_day, day_ttl)
  redis.call('EXPIRE', month, month_ttl)
  redis.call('EXPIRE', fleet_month, month_ttl)
  local tokens = prompt + completion + cached
  redis.call('ZINCRBY', top_day, tokens, user_id)
  redis.call('ZINCRBY', top_month, tokens, user_id)
  redis.call('EXPIRE', top_day, day_ttl)
  redis.call('EXPIRE', top_month, month_ttl)
  redis.call('HDEL', reservations, reply_id)
end

