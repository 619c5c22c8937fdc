// Live data for the console: a call repeated while the tab is visible, paused while it is hidden.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ChatApiError } from '@chat-fleet/client';

/** Figures that move by the second (instances, a streaming reply, the audit). */
export const LIVE_MS = 2_000;
/** Figures that move slowly or in 10 s buckets; also keeps the console under the admin rate limit. */
export const SLOW_MS = 10_000;

export interface Poll<T> {
  /** The last answer for the current `deps`; kept while a later call fails. */
  data: T | undefined;
  /** The last call's failure, cleared by the next success. */
  error: unknown;
  /** Calls again now (after an action changed what the data shows). */
  refresh: () => void;
}

/**
 * Calls `load` at once and then `everyMs` after each answer, so calls never overlap; again as soon
 * as a hidden tab shows. New `deps` start over with no data; a rate limit waits as long as it asks.
 */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: readonly unknown[]): Poll<T> {
  const key = JSON.stringify(deps);
  const [state, setState] = useState<{ key: string; data?: T; error?: unknown }>({ key });
  const [nudges, setNudges] = useState(0);
  const latestLoad = useRef(load);
  latestLoad.current = load;

  useEffect(() => {
    let stopped = false;
    let running = false;
    let timer: number | undefined;
    const tick = async (): Promise<void> => {
      window.clearTimeout(timer);
      timer = undefined;
      if (stopped || document.hidden) return;
      running = true;
      let wait = everyMs;
      try {
        const data = await latestLoad.current();
        if (!stopped) setState({ key, data });
      } catch (error) {
        if (!stopped) setState((s) => ({ key, data: s.key === key ? s.data : undefined, error }));
        if (error instanceof ChatApiError && error.retryAfterMs !== undefined) wait = Math.max(wait, error.retryAfterMs);
      }
      running = false;
      if (!stopped && !document.hidden) timer = window.setTimeout(() => void tick(), wait);
    };
    const onVisibility = (): void => {
      if (!document.hidden && !running && timer === undefined) void tick();
    };
    document.addEventListener('visibilitychange', onVisibility);
    void tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [key, everyMs, nudges]);

  const current = state.key === key;
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, refresh: () => setNudges((n) => n + 1) };
}
