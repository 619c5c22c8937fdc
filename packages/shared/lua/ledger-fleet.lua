-- Adds a finished reply's usage to the fleet's day and month and ranks its user among the
-- heaviest, once (a marker per reply). All keys carry the fleet ledger's hash tag.
-- KEYS[1]  the fleet's usage hash for the reply's day      KEYS[2]  ... for its month
-- KEYS[3]  users by tokens that day                          KEYS[4]  ... that month
-- KEYS[5]  the marker of this reply's usage (string, set once)
-- ARGV[1]  userId
-- ARGV[2]  model
-- ARGV[3]  prompt tokens            ARGV[4]  completion tokens
-- ARGV[5]  cached tokens            ARGV[6]  cost in nano-dollars
-- ARGV[7]  TTL of a day key, s      ARGV[8]  TTL of a month key, s
-- ARGV[9]  TTL of the marker, s
-- returns  1 added; 0 it had been added before
if not redis.call('SET', KEYS[5], '1', 'NX', 'EX', ARGV[9]) then
  return 0
end
local p, c, k, cost = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
add_usage(KEYS[1], ARGV[2], p, c, k, cost, ARGV[7])
add_usage(KEYS[2], ARGV[2], p, c, k, cost, ARGV[8])
local tokens = p + c + k
redis.call('ZINCRBY', KEYS[3], tokens, ARGV[1])
redis.call('ZINCRBY', KEYS[4], tokens, ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[7])
redis.call('EXPIRE', KEYS[4], ARGV[8])
return 1
