// Coalesces many state changes into one view update per animation frame. A timer backs the frame
// up: background tabs get no animation frames, and `done` must still show when the tab returns.
export function frameBatcher(flush: () => void, fallbackMs = 100): () => void {
  let pending = false;
  let frame = 0;
  let timer = 0;
  const run = (): void => {
    if (!pending) return;
    pending = false;
    cancelAnimationFrame(frame);
    window.clearTimeout(timer);
    flush();
  };
  return () => {
    if (pending) return;
    pending = true;
    frame = requestAnimationFrame(run);
    timer = window.setTimeout(run, fallbackMs);
  };
}
