// What admins did, newest first: sign-ins, blocks, budget resets, cancels, deletions.
import type { AdminApi } from './admin-api.js';
import { when } from './format.js';
import { ProblemNote } from './problem-note.js';
import { LIVE_MS, usePoll } from './use-poll.js';

export function AuditView({ api }: { api: AdminApi }) {
  const audit = usePoll(() => api.audit(100), LIVE_MS, []);
  return (
    <section class="card" data-testid="admin-audit" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <ProblemNote error={audit.error} prefix="Could not refresh the audit log:" />
      {audit.data === undefined ? (
        <p class="muted">Loading…</p>
      ) : audit.data.length === 0 ? (
        <p class="muted">Nothing yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="muted">The newest {audit.data.length} entries</caption>
            <thead>
              <tr>
                <th scope="col">when</th>
                <th scope="col">who</th>
                <th scope="col">action</th>
                <th scope="col">target</th>
                <th scope="col">address</th>
              </tr>
            </thead>
            <tbody>
              {audit.data.map((e) => (
                <tr key={`${e.at} ${e.who} ${e.action} ${e.target}`} data-testid="admin-audit-entry" data-action={e.action}>
                  <td>{when(e.at)}</td>
                  <td>{e.who}</td>
                  <td>{e.action}</td>
                  <td>
                    <code>{e.target}</code>
                  </td>
                  <td>{e.address}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
