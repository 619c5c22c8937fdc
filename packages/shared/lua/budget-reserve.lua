-- Reserves a reply's worst case (its prompt plus max_tokens, and what that would cost) from a
-- user's budgets before the model is called. The reply is admitted while what is used, what the
-- user's other replies hold and this reply's prompt fit in the budget; so parallel replies of
-- one user overshoot a budget by at most one reply's max_tokens (and its cost), together.
-- Reservations of workers that died expire.
-- KEYS[1]  the user's usage hash for today
-- KEYS[2]  the user's usage hash for this month
-- KEYS[3]  the user's reservations hash (field: messageId, value: "tokens cost expiresAtMs")
-- ARGV[1]  the reply's messageId
-- ARGV[2]  tokens to reserve
-- ARGV[3]  cost to reserve, in nano-dollars
-- ARGV[4]  tokens a day the user may spend (0: no budget)
-- ARGV[5]  cost a month the user may spend, in nano-dollars (0: no budget)
-- ARGV[6]  now, ms since the epoch
-- ARGV[7]  when this reservation expires if nobody settles it, ms since the epoch
-- ARGV[8]  tokens that must fit (the prompt's)
-- ARGV[9]  cost that must fit (the prompt's), in nano-dollars
-- returns  {1} reserved; {0, 'tokens'} or {0, 'cost'}: it does not fit. When it would not fit
--          even with nothing else held, the period is marked spent (field `x`) for the gateways.
local now = tonumber(ARGV[6])
local held_tokens, held_cost = 0, 0
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all, 2 do
  local id, value = all[i], all[i + 1]
  local t, c, expires = string.match(value, '^(%d+) (%d+) (%d+)$')
  if t == nil or tonumber(expires) <= now then
    redis.call('HDEL', KEYS[3], id)
  elseif id ~= ARGV[1] then
    held_tokens = held_tokens + tonumber(t)
    held_cost = held_cost + tonumber(c)
  end
end
local need_tokens, need_cost = tonumber(ARGV[8]), tonumber(ARGV[9])
local day_limit, month_limit = tonumber(ARGV[4]), tonumber(ARGV[5])
if day_limit > 0 then
  local used = redis.call('HMGET', KEYS[1], 'p', 'c')
  local spent = (tonumber(used[1]) or 0) + (tonumber(used[2]) or 0)
  if spent + held_tokens + need_tokens > day_limit then
    -- What is left is too little for a reply: gateways refuse the user's messages until the reset.
    if held_tokens == 0 then
      redis.call('HSET', KEYS[1], 'x', 1)
    end
    return {0, 'tokens'}
  end
end
if month_limit > 0 then
  local spent = tonumber(redis.call('HGET', KEYS[2], '$')) or 0
  if spent + held_cost + need_cost > month_limit then
    if held_cost == 0 then
      redis.call('HSET', KEYS[2], 'x', 1)
    end
    return {0, 'cost'}
  end
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[7])
local ttl = tonumber(ARGV[7]) - now
if redis.call('PTTL', KEYS[3]) < ttl then
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return {1}
