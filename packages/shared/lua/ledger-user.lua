-- Adds a finished reply's usage to its user's day and month, once (a marker per reply), and
-- drops the user's budget reservation for it, which this usage replaces. All keys carry the
-- user's hash tag.
-- KEYS[1]  the user's usage hash for the reply's day
-- KEYS[2]  the user's usage hash for its month
-- KEYS[3]  the user's budget reservations hash
-- KEYS[4]  the marker of this reply's usage (string, set once)
-- ARGV[1]  the reply's messageId
-- ARGV[2]  model
-- ARGV[3]  prompt tokens            ARGV[4]  completion tokens
-- ARGV[5]  cached tokens            ARGV[6]  cost in nano-dollars
-- ARGV[7]  TTL of a day key, s      ARGV[8]  TTL of a month key, s (and of the marker)
-- returns  1 added; 0 it had been added before
if not redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[8]) then
  return 0
end
local p, c, k, cost = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
add_usage(KEYS[1], ARGV[2], p, c, k, cost, ARGV[7])
add_usage(KEYS[2], ARGV[2], p, c, k, cost, ARGV[8])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
