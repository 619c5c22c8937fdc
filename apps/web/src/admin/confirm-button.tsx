// A button whose action waits for a yes in a modal dialog: the browser's <dialog> keeps the focus
// inside, starts it on Cancel (the safe answer), closes on Escape and gives the focus back. The
// dialog exists only while it asks, so a page has at most one.
import { useId, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface ConfirmButtonProps {
  label: string;
  /** The question, naming what the action does to whom. */
  question: string;
  /** The confirming button's label, e.g. `Block user`. */
  confirm: string;
  testId: string;
  disabled?: boolean;
  danger?: boolean;
  onConfirm: () => void;
}

export function ConfirmButton({ label, question, confirm, testId, disabled = false, danger = false, onConfirm }: ConfirmButtonProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const questionId = useId();
  const [asking, setAsking] = useState(false);
  useLayoutEffect(() => {
    if (asking) dialog.current?.showModal();
  }, [asking]);
  const close = (): void => dialog.current?.close();
  return (
    <>
      <button type="button" class={danger ? 'danger' : ''} data-testid={testId} disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
      {asking && (
        <dialog ref={dialog} class="confirm" aria-labelledby={questionId} onClose={() => setAsking(false)}>
          <p id={questionId}>{question}</p>
          <div class="actions">
            <button type="button" data-testid="admin-confirm-cancel" onClick={close}>
              Cancel
            </button>
            <button
              type="button"
              class={danger ? 'danger' : 'primary'}
              data-testid="admin-confirm"
              onClick={() => {
                close();
                onConfirm();
              }}
            >
              {confirm}
            </button>
          </div>
        </dialog>
      )}
    </>
  );
}
