// The admin console (served at /admin): sign in with the admin key, then one view at a time:
// the fleet and its charts, users, sessions, the audit log. Only the view shown polls, which keeps
// a console well under the admin rate limit (ADMIN_RATE_LIMIT_PER_MIN, 120 by default).
//
// data-testid, for the browser tests:
//   sign-in     admin-signin (the form), admin-key-input, admin-signin-submit, admin-error (the refusal)
//   console     admin-console, admin-who, admin-signout, admin-nav-fleet | -users | -sessions | -audit
//   fleet       admin-fleet, admin-instance (data-role, data-instance, data-stale="true|false"),
//               admin-stale-note, admin-queue, admin-failed, admin-failed-job
//   charts      admin-charts, admin-chart (data-chart: messages, first-token, tokens, errors, hit-ratio)
//   users       admin-users, admin-user-lookup, admin-user-row (data-user), admin-user (data-user),
//               admin-user-status (data-blocked), admin-block, admin-unblock, admin-reset-budget
//   sessions    admin-sessions, admin-session-search-by, admin-session-search, admin-session-search-submit,
//               admin-session-row (data-session), admin-session (data-session), admin-message (data-role),
//               admin-inflight (data-message, data-status), admin-inflight-text, admin-cancel-reply,
//               admin-delete-session
//   audit       admin-audit, admin-audit-entry (data-action)
//   anywhere    admin-confirm, admin-confirm-cancel (a confirm dialog's buttons), admin-section-error
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ChatApiError } from '@chat-fleet/client';
import { AdminApi, problem } from './admin-api.js';
import { AuditView } from './audit-view.js';
import { FleetView } from './fleet-view.js';
import { savedKey, saveKey } from './key-store.js';
import { SessionsView } from './sessions-view.js';
import { UsersView } from './users-view.js';

type Auth = { phase: 'signed-out'; error?: string } | { phase: 'checking' } | { phase: 'signed-in'; key: string; who: string };

function refusal(err: unknown): string {
  if (err instanceof ChatApiError && err.status === 401) return 'This key is not accepted. Check it and sign in again.';
  if (err instanceof ChatApiError && err.status === 403) return 'This credential is not an admin’s.';
  return problem(err);
}

export function AdminApp() {
  const [auth, setAuth] = useState<Auth>(() => (savedKey() === undefined ? { phase: 'signed-out' } : { phase: 'checking' }));

  const signIn = (key: string): void => {
    setAuth({ phase: 'checking' });
    // whoami first: it checks the key and the gateway audits it as this admin's sign-in.
    new AdminApi(key).whoami().then(
      ({ who }) => {
        saveKey(key);
        setAuth({ phase: 'signed-in', key, who });
      },
      (err: unknown) => {
        saveKey(undefined);
        setAuth({ phase: 'signed-out', error: refusal(err) });
      },
    );
  };
  const signOut = (error?: string): void => {
    saveKey(undefined);
    setAuth(error === undefined ? { phase: 'signed-out' } : { phase: 'signed-out', error });
  };

  useEffect(() => {
    const key = savedKey();
    if (key !== undefined) signIn(key);
  }, []);

  if (auth.phase === 'signed-in') return <Console auth={auth} onSignOut={signOut} />;
  return <SignIn checking={auth.phase === 'checking'} error={auth.phase === 'signed-out' ? auth.error : undefined} onSignIn={signIn} />;
}

function SignIn({ checking, error, onSignIn }: { checking: boolean; error: string | undefined; onSignIn: (key: string) => void }) {
  const [key, setKey] = useState('');
  const input = useRef<HTMLInputElement>(null);
  // Back to the key after a refusal, so a keyboard user fixes it where they are.
  useEffect(() => {
    if (!checking) input.current?.focus();
  }, [checking, error]);
  return (
    <main class="signin">
      <h1>chat-fleet admin</h1>
      <form
        class="card"
        data-testid="admin-signin"
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim() !== '') onSignIn(key.trim());
        }}
      >
        <label for="admin-key">Admin key</label>
        <p class="muted" id="admin-key-hint">
          ADMIN_API_KEY (npm start prints it), or an admin’s user token. Kept in this tab only.
        </p>
        <input
          id="admin-key"
          type="password"
          data-testid="admin-key-input"
          aria-describedby="admin-key-hint"
          autocomplete="off"
          spellcheck={false}
          ref={input}
          value={key}
          disabled={checking}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <button type="submit" class="primary" data-testid="admin-signin-submit" disabled={checking || key.trim() === ''}>
          {checking ? 'Signing in…' : 'Sign in'}
        </button>
        {error !== undefined && (
          <p class="problem" role="alert" data-testid="admin-error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

const VIEWS = [
  { id: 'fleet', label: 'Fleet' },
  { id: 'users', label: 'Users' },
  { id: 'sessions', label: 'Sessions' },
  { id: 'audit', label: 'Audit' },
] as const;

type View = (typeof VIEWS)[number]['id'];

const viewOf = (hash: string): View => VIEWS.find((v) => `#${v.id}` === hash)?.id ?? 'fleet';

/** The view named by the URL's hash, so a view can be linked and Back returns to the previous one. */
function useView(): View {
  const [view, setView] = useState(() => viewOf(location.hash));
  useEffect(() => {
    const onHash = (): void => setView(viewOf(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return view;
}

function Console({ auth, onSignOut }: { auth: { key: string; who: string }; onSignOut: (error?: string) => void }) {
  const view = useView();
  const api = useMemo(() => new AdminApi(auth.key, (err) => onSignOut(refusal(err))), [auth.key]);
  return (
    <div class="console" data-testid="admin-console">
      <header class="topbar">
        <h1>chat-fleet admin</h1>
        <nav aria-label="Console">
          <ul>
            {VIEWS.map((v) => (
              <li key={v.id}>
                <a href={`#${v.id}`} data-testid={`admin-nav-${v.id}`} aria-current={v.id === view ? 'page' : undefined}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="muted" data-testid="admin-who">
          {auth.who}
        </span>
        <button type="button" class="ghost" data-testid="admin-signout" onClick={() => onSignOut()}>
          Sign out
        </button>
      </header>
      <main class="views">
        {view === 'fleet' && <FleetView api={api} />}
        {view === 'users' && <UsersView api={api} />}
        {view === 'sessions' && <SessionsView api={api} />}
        {view === 'audit' && <AuditView api={api} />}
      </main>
    </div>
  );
}
