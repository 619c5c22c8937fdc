// A section's failed call or action, announced once by screen readers; the last data stays shown.
import { problem } from './admin-api.js';

export function ProblemNote({ error, prefix }: { error: unknown; prefix?: string }) {
  if (error === undefined || error === null || error === '') return null;
  const text = typeof error === 'string' ? error : problem(error);
  return (
    <p class="problem" role="alert" data-testid="admin-section-error">
      {prefix === undefined ? text : `${prefix} ${text}`}
    </p>
  );
}
