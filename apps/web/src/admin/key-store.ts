// The admin key lives in this tab's sessionStorage only: gone when the tab closes, never in a
// cookie (so no other page can make the browser send it) and never in localStorage.
const KEY = 'chat-fleet:admin-key';

export function savedKey(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: the key lasts until a reload
  }
}

export function saveKey(key: string | undefined): void {
  try {
    if (key === undefined) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, key);
  } catch {
    // as above
  }
}
