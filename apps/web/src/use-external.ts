// A view of a framework-free store (subscribe + getSnapshot), re-rendered on each change.
import { useEffect, useState } from 'preact/hooks';

export function useExternal<T>(subscribe: (listener: () => void) => () => void, getSnapshot: () => T): T {
  const [view, setView] = useState(getSnapshot);
  useEffect(() => {
    setView(getSnapshot);
    return subscribe(() => setView(getSnapshot));
  }, [subscribe, getSnapshot]);
  return view;
}
