-- What a worker reads before it answers a reply, in one call: the reply's state, its session's
-- meta and its history (one hash slot: the session's).
-- KEYS[1]  reply meta hash
-- KEYS[2]  session meta hash
-- KEYS[3]  session history list
-- returns  { { status, attempt, cancel } (false when absent), the meta hash as a flat list, the history }
return {
  redis.call('HMGET', KEYS[1], 'status', 'attempt', 'cancel'),
  redis.call('HGETALL', KEYS[2]),
  redis.call('LRANGE', KEYS[3], 0, -1),
}
