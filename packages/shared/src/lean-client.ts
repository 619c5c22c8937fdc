// The commands connection as the session store sees it, without BullMQ's scripts on its MULTIs.
//
// BullMQ defines its Lua scripts (about fifty) on the connection it is given, and ioredis copies
// every script defined on a connection onto each MULTI or pipeline built from it: a session touch
// (a MULTI at every socket upgrade) weighed ~14 KB instead of ~5 KB, garbage that piled up in the
// heap when thousands of sockets connected. The queues must keep this connection (a job and the
// writes sent with it stay in order on one connection), so the session store gets a view of it:
// an object whose prototype is the client, with script registries of its own that are empty.
// Every command still goes out on the same connection, in the same order; only the MULTIs and
// pipelines built through the view skip the copies (none of them runs a BullMQ script).
import type { RedisClient } from './redis-client.js';

export function withoutDefinedScripts(redis: RedisClient): RedisClient {
  const view = Object.create(redis) as RedisClient & { scriptsSet: Record<string, unknown>; addedBuiltinSet: Set<string> };
  Object.defineProperty(view, 'scriptsSet', { value: {}, enumerable: false });
  Object.defineProperty(view, 'addedBuiltinSet', { value: new Set<string>(), enumerable: false });
  return view;
}
