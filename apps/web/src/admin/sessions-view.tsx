// Sessions by user or by id, and one session as stored: its history, the reply in flight with its
// text so far (cancellable), and deletion.
import { useState } from 'preact/hooks';
import { ChatApiError } from '@chat-fleet/client';
import type { AdminSession, AdminSessionDetail, StoredMessage } from '@chat-fleet/protocol';
import type { AdminApi, SessionQuery } from './admin-api.js';
import { ConfirmButton } from './confirm-button.js';
import { when } from './format.js';
import { ProblemNote } from './problem-note.js';
import { useAction } from './use-action.js';
import { usePanelFocus } from './use-panel-focus.js';
import { LIVE_MS, SLOW_MS, usePoll } from './use-poll.js';

export function SessionsView({ api }: { api: AdminApi }) {
  const [query, setQuery] = useState<SessionQuery | undefined>(undefined);
  const [open, setOpen] = useState<string | undefined>(undefined);
  return (
    <>
      <section class="card" data-testid="admin-sessions" aria-labelledby="sessions-title">
        <h2 id="sessions-title">Sessions</h2>
        <SessionSearch onSearch={setQuery} />
        {query !== undefined && <SessionList api={api} query={query} open={open} onOpen={setOpen} />}
      </section>
      {open !== undefined && <SessionPanel key={open} api={api} sessionId={open} onClose={() => setOpen(undefined)} />}
    </>
  );
}

function SessionSearch({ onSearch }: { onSearch: (query: SessionQuery) => void }) {
  const [by, setBy] = useState<'userId' | 'sessionId'>('userId');
  const [text, setText] = useState('');
  return (
    <form
      class="inline-form"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        const value = text.trim();
        if (value !== '') onSearch(by === 'userId' ? { userId: value } : { sessionId: value });
      }}
    >
      <label for="session-search-by">Search by</label>
      <select id="session-search-by" data-testid="admin-session-search-by" value={by} onChange={(e) => setBy(e.currentTarget.value as 'userId' | 'sessionId')}>
        <option value="userId">user id</option>
        <option value="sessionId">session id</option>
      </select>
      <input
        aria-label={by === 'userId' ? 'User id' : 'Session id'}
        data-testid="admin-session-search"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        autocomplete="off"
        spellcheck={false}
      />
      <button type="submit" data-testid="admin-session-search-submit">
        Search
      </button>
    </form>
  );
}

function SessionList({ api, query, open, onOpen }: { api: AdminApi; query: SessionQuery; open: string | undefined; onOpen: (id: string) => void }) {
  const list = usePoll(() => api.sessions(query), SLOW_MS, [query]);
  if (list.error !== undefined) return <ProblemNote error={list.error} />;
  if (list.data === undefined) return <p class="muted">Searching…</p>;
  if (list.data.length === 0) return <p class="muted">No session found.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">session</th>
            <th scope="col">user</th>
            <th scope="col">title</th>
            <th scope="col">created</th>
            <th scope="col">last active</th>
          </tr>
        </thead>
        <tbody>
          {list.data.map((s: AdminSession) => (
            <tr key={s.sessionId} data-testid="admin-session-row" data-session={s.sessionId} aria-current={s.sessionId === open ? 'true' : undefined}>
              <th scope="row">
                <button type="button" class="link" onClick={() => onOpen(s.sessionId)}>
                  <code>{s.sessionId}</code>
                </button>
              </th>
              <td>{s.userId}</td>
              <td>{s.title ?? '–'}</td>
              <td>{when(s.createdAt)}</td>
              <td>{when(s.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SessionPanel({ api, sessionId, onClose }: { api: AdminApi; sessionId: string; onClose: () => void }) {
  const heading = usePanelFocus();
  const detail = usePoll(() => api.session(sessionId), LIVE_MS, [sessionId]);
  const gone = detail.error instanceof ChatApiError && detail.error.status === 404;
  return (
    <section class="card" data-testid="admin-session" data-session={sessionId} aria-labelledby="session-title">
      <div class="card-head">
        <h2 id="session-title" tabIndex={-1} ref={heading}>
          Session <code>{sessionId}</code>
        </h2>
        <button type="button" class="ghost" onClick={onClose}>
          Close
        </button>
      </div>
      {gone ? (
        <p class="muted">This session no longer exists (deleted or expired).</p>
      ) : (
        <>
          <ProblemNote error={detail.error} />
          {detail.data === undefined ? <p class="muted">Loading…</p> : <SessionBody api={api} session={detail.data} onChanged={detail.refresh} />}
        </>
      )}
    </section>
  );
}

function SessionBody({ api, session: s, onChanged }: { api: AdminApi; session: AdminSessionDetail; onChanged: () => void }) {
  const action = useAction();
  const { inflight } = s;
  return (
    <>
      <dl class="facts">
        <div>
          <dt>user</dt>
          <dd>{s.userId}</dd>
        </div>
        <div>
          <dt>created</dt>
          <dd>{when(s.createdAt)}</dd>
        </div>
        <div>
          <dt>messages</dt>
          <dd>{s.messages.length}</dd>
        </div>
      </dl>
      {s.systemPrompt !== undefined && s.systemPrompt !== '' && (
        <details class="system-prompt">
          <summary>System prompt</summary>
          <p class="text">{s.systemPrompt}</p>
        </details>
      )}
      <h3>History</h3>
      {s.messages.length === 0 ? (
        <p class="muted">No message yet.</p>
      ) : (
        <ol class="history">
          {s.messages.map((m) => (
            <MessageItem key={m.id} message={m} />
          ))}
        </ol>
      )}
      {inflight !== null && (
        <div class="inflight" data-testid="admin-inflight" data-message={inflight.messageId} data-status={inflight.status}>
          <div class="card-head">
            <h3>
              Reply {inflight.status} <code>{inflight.messageId}</code>
              {inflight.attempt !== undefined && inflight.attempt > 1 && <span class="muted"> (attempt {inflight.attempt})</span>}
            </h3>
            <button
              type="button"
              class="danger"
              data-testid="admin-cancel-reply"
              disabled={action.busy}
              onClick={() => action.run(() => api.cancelReply(inflight.messageId), onChanged)}
            >
              Cancel reply
            </button>
          </div>
          <p class="text" data-testid="admin-inflight-text">
            {inflight.text === '' ? <span class="muted">no text yet</span> : inflight.text}
          </p>
        </div>
      )}
      <div class="actions">
        <ConfirmButton
          label="Delete session"
          question={`Delete session ${s.sessionId} of ${s.userId}? Its history goes and its open sockets are closed on every gateway.`}
          confirm="Delete session"
          testId="admin-delete-session"
          danger
          disabled={action.busy}
          onConfirm={() => action.run(() => api.deleteSession(s.sessionId), onChanged)}
        />
      </div>
      <ProblemNote error={action.error} />
    </>
  );
}

function MessageItem({ message: m }: { message: StoredMessage }) {
  return (
    <li class={`message ${m.role}`} data-testid="admin-message" data-role={m.role}>
      <div class="message-head">
        <strong>{m.role}</strong>
        <span class="muted">{when(m.createdAt)}</span>
        {m.status !== undefined && <span class="badge">{m.status}</span>}
        {m.tools !== undefined && m.tools.length > 0 && <span class="badge">{m.tools.length === 1 ? '1 tool call' : `${m.tools.length} tool calls`}</span>}
      </div>
      {/* As stored, as text: a reply's markdown or HTML is never rendered here. */}
      <p class="text">{m.content}</p>
    </li>
  );
}
