// How the console words numbers: short, with their unit, the same everywhere.

/** `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** `840 ms`, `2.5 s` below 10 s, then as {@link duration}. */
export function age(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : duration(ms / 1000);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(0)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(0)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

/** Dollars with the cents a tiny spend still shows: `$0.0042`, `$12.40`. */
export function usd(n: number): string {
  return n === 0 ? '$0' : n < 1 ? `$${n.toPrecision(2)}` : `$${n.toFixed(2)}`;
}

/** `12,345` in the reader's locale. */
export function count(n: number): string {
  return Math.round(n).toLocaleString();
}

/** A rate or a small measure with the digits worth reading: `0.35`, `4.2`, `120`. */
export function figure(n: number): string {
  const a = Math.abs(n);
  return a === 0 ? '0' : a < 1 ? n.toFixed(2) : a < 10 ? n.toFixed(1) : n.toFixed(0);
}

/** A stored ISO time as the reader's local date and time, to the second. */
export function when(iso: string): string {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? iso : t.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}
