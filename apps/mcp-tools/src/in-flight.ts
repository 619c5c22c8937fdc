// Cancellation on a stateless server. A client cancels a call with `notifications/cancelled`, sent
// as a POST of its own, so it reaches a fresh MCP server that never saw the call; this registry
// finds the request still running the call in this process and closes it, which aborts the
// handler's `extra.signal`. The notification names the call only by its JSON-RPC id, which every
// client counts on its own, so the id is looked up among the requests from the same address and a
// cancel that still names more than one is ignored: finishing a call nobody reads costs less than
// cancelling another client's.
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';

export type CancelOutcome = 'cancelled' | 'unknown' | 'ambiguous';

export class InFlightRequests {
  private readonly byKey = new Map<string, Set<() => void>>();

  /** Registers the JSON-RPC requests of one HTTP request; the returned function unregisters them. */
  add(address: string, ids: readonly RequestId[], cancel: () => void): () => void {
    const keys = ids.map((id) => key(address, id));
    for (const k of keys) {
      let set = this.byKey.get(k);
      if (set === undefined) this.byKey.set(k, (set = new Set()));
      set.add(cancel);
    }
    return () => {
      for (const k of keys) {
        const set = this.byKey.get(k);
        set?.delete(cancel);
        if (set?.size === 0) this.byKey.delete(k);
      }
    };
  }

  cancel(address: string, id: RequestId): CancelOutcome {
    const set = this.byKey.get(key(address, id));
    if (set === undefined || set.size === 0) return 'unknown';
    if (set.size > 1) return 'ambiguous';
    for (const cancel of set) cancel();
    return 'cancelled';
  }
}

/** The id's type is part of the key: a client's request 1 and request "1" are different calls. */
function key(address: string, id: RequestId): string {
  return `${address} ${typeof id} ${String(id)}`;
}
