-- api_abuse_sync: KEYS[1] entry key; ARGV: stamp, entry JSON, TTL ms (0 = none), channel.
-- Sets the key and publishes the entry only if it is newer than the key's.
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' and tonumber(old.stamp) and tonumber(old.stamp) >= tonumber(ARGV[1]) then
    return 0
  end
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
redis.call('PUBLISH', ARGV[4], ARGV[2])
return 1
