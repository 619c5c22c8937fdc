// A button's call: busy while it runs, its failure kept to show beside it.
import { useState } from 'preact/hooks';
import { problem } from './admin-api.js';

export interface Action {
  busy: boolean;
  /** The last failure in words, cleared by the next run. */
  error: string | undefined;
  /** Runs `work`, then `after` if it succeeded; one at a time. */
  run: (work: () => Promise<unknown>, after?: () => void) => void;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const run = (work: () => Promise<unknown>, after?: () => void): void => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    work().then(
      () => {
        setBusy(false);
        after?.();
      },
      (err: unknown) => {
        setBusy(false);
        setError(problem(err));
      },
    );
  };
  return { busy, error, run };
}
