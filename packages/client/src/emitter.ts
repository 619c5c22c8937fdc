// A typed event emitter that runs in browsers and Node alike; a listener that throws does not stop
// the others (its error is reported on the next tick, where it can be seen).

export type Listener<A extends unknown[]> = (...args: A) => void;

export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one map holds every event's listeners
  private readonly listeners = new Map<keyof E, Set<Listener<any[]>>>();

  /** Adds a listener; the function returned removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of set) {
      try {
        listener(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  protected hasListeners(event: keyof E): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }
}
