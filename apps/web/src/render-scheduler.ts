// Schedules renders: many state changes in a row become one publish per animation frame. A timer
// backs the frame up: background tabs get no animation frames, and `done` must still show when the
// tab returns. Given to the ConversationStore as its `schedule`.
export function renderScheduler(publish: () => void, fallbackMs = 100): () => void {
  let pending = false;
  let frame = 0;
  let timer = 0;
  const run = (): void => {
    if (!pending) return;
    pending = false;
    cancelAnimationFrame(frame);
    window.clearTimeout(timer);
    publish();
  };
  return () => {
    if (pending) return;
    pending = true;
    frame = requestAnimationFrame(run);
    timer = window.setTimeout(run, fallbackMs);
  };
}
