// A panel opened from a list takes the focus on its heading, so the keyboard (and a screen reader)
// continues there, and a long list scrolls to it.
import { useEffect, useRef } from 'preact/hooks';

export function usePanelFocus() {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return heading;
}
