// Who spends what: the heaviest users this month (and today), the fleet's spend by model, and one
// user's account: usage by model, budget left, block / unblock and a budget reset.
import { useState } from 'preact/hooks';
import type { FleetUsage, UsageTotals, UserAccount } from '@chat-fleet/protocol';
import type { AdminApi } from './admin-api.js';
import { ConfirmButton } from './confirm-button.js';
import { count, usd, when } from './format.js';
import { ProblemNote } from './problem-note.js';
import { useAction } from './use-action.js';
import { usePanelFocus } from './use-panel-focus.js';
import { SLOW_MS, usePoll } from './use-poll.js';

const tokens = (t: UsageTotals): number => t.promptTokens + t.completionTokens;

export function UsersView({ api }: { api: AdminApi }) {
  const usage = usePoll(() => api.usage(20), SLOW_MS, []);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  return (
    <>
      <section class="card" data-testid="admin-users" aria-labelledby="users-title">
        <h2 id="users-title">Heaviest users this month</h2>
        <ProblemNote error={usage.error} prefix="Could not refresh usage:" />
        <UserLookup onOpen={setSelected} />
        {usage.data === undefined ? <p class="muted">Loading…</p> : <TopUsers usage={usage.data} selected={selected} onOpen={setSelected} />}
      </section>
      {selected !== undefined && <UserPanel key={selected} api={api} userId={selected} onClose={() => setSelected(undefined)} />}
      {usage.data !== undefined && <FleetByModel usage={usage.data} />}
    </>
  );
}

/** Any user by id, heavy or not (e.g. one to block before they spend). */
function UserLookup({ onOpen }: { onOpen: (userId: string) => void }) {
  const [text, setText] = useState('');
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim() !== '') onOpen(text.trim());
      }}
    >
      <label for="user-lookup">User id</label>
      <input id="user-lookup" data-testid="admin-user-lookup" value={text} onInput={(e) => setText(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
      <button type="submit">Open</button>
    </form>
  );
}

function TopUsers({ usage, selected, onOpen }: { usage: FleetUsage; selected: string | undefined; onOpen: (userId: string) => void }) {
  if (usage.users.length === 0) return <p class="muted">No usage this month yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">user</th>
            <th scope="col" class="num">tokens today</th>
            <th scope="col" class="num">cost today</th>
            <th scope="col" class="num">tokens this month</th>
            <th scope="col" class="num">cost this month</th>
            <th scope="col" class="num">replies this month</th>
          </tr>
        </thead>
        <tbody>
          {usage.users.map((u) => (
            <tr key={u.userId} data-testid="admin-user-row" data-user={u.userId} aria-current={u.userId === selected ? 'true' : undefined}>
              <th scope="row">
                <button type="button" class="link" onClick={() => onOpen(u.userId)}>
                  {u.userId}
                </button>
              </th>
              <td class="num">{count(tokens(u.day))}</td>
              <td class="num">{usd(u.day.costUsd)}</td>
              <td class="num">{count(tokens(u.month))}</td>
              <td class="num">{usd(u.month.costUsd)}</td>
              <td class="num">{count(u.month.replies)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">whole fleet</th>
            <td class="num">{count(tokens(usage.fleet.day))}</td>
            <td class="num">{usd(usage.fleet.day.costUsd)}</td>
            <td class="num">{count(tokens(usage.fleet.month))}</td>
            <td class="num">{usd(usage.fleet.month.costUsd)}</td>
            <td class="num">{count(usage.fleet.month.replies)}</td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function ByModel({ caption, models }: { caption: string; models: Record<string, UsageTotals> }) {
  const rows = Object.entries(models).sort(([, a], [, b]) => b.costUsd - a.costUsd || tokens(b) - tokens(a));
  if (rows.length === 0) return null;
  return (
    <div class="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">model</th>
            <th scope="col" class="num">prompt</th>
            <th scope="col" class="num">completion</th>
            <th scope="col" class="num">cached</th>
            <th scope="col" class="num">replies</th>
            <th scope="col" class="num">cost</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([model, t]) => (
            <tr key={model}>
              <th scope="row">{model}</th>
              <td class="num">{count(t.promptTokens)}</td>
              <td class="num">{count(t.completionTokens)}</td>
              <td class="num">{count(t.cachedTokens)}</td>
              <td class="num">{count(t.replies)}</td>
              <td class="num">{usd(t.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FleetByModel({ usage }: { usage: FleetUsage }) {
  return (
    <section class="card" aria-labelledby="models-title">
      <h2 id="models-title">Fleet by model</h2>
      <div class="split">
        <ByModel caption="Today" models={usage.fleet.byModel.day} />
        <ByModel caption="This month" models={usage.fleet.byModel.month} />
      </div>
    </section>
  );
}

function UserPanel({ api, userId, onClose }: { api: AdminApi; userId: string; onClose: () => void }) {
  const heading = usePanelFocus();
  const user = usePoll(() => Promise.all([api.user(userId), api.userUsage(userId)]), SLOW_MS, [userId]);
  const action = useAction();
  const [account, usage] = user.data ?? [];
  return (
    <section class="card" data-testid="admin-user" data-user={userId} aria-labelledby="user-title">
      <div class="card-head">
        <h2 id="user-title" tabIndex={-1} ref={heading}>
          User <code>{userId}</code>
        </h2>
        <button type="button" class="ghost" onClick={onClose}>
          Close
        </button>
      </div>
      <ProblemNote error={user.error} />
      {account === undefined || usage === undefined ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          <Account account={account} />
          <div class="actions">
            {account.blocked ? (
              <ConfirmButton
                label="Unblock"
                question={`Unblock ${userId}? Their sessions and messages are accepted again.`}
                confirm="Unblock user"
                testId="admin-unblock"
                disabled={action.busy}
                onConfirm={() => action.run(() => api.unblock(userId), user.refresh)}
              />
            ) : (
              <ConfirmButton
                label="Block"
                question={`Block ${userId}? Every new session and message of theirs is refused on every gateway.`}
                confirm="Block user"
                testId="admin-block"
                danger
                disabled={action.busy}
                onConfirm={() => action.run(() => api.block(userId), user.refresh)}
              />
            )}
            <ConfirmButton
              label="Reset budget"
              question={`Reset ${userId}'s spend today and this month to zero? Their budget starts over.`}
              confirm="Reset budget"
              testId="admin-reset-budget"
              disabled={action.busy}
              onConfirm={() => action.run(() => api.resetBudget(userId), user.refresh)}
            />
          </div>
          <ProblemNote error={action.error} />
          <div class="split">
            <ByModel caption="Today by model" models={usage.day.byModel} />
            <ByModel caption="This month by model" models={usage.month.byModel} />
          </div>
        </>
      )}
    </section>
  );
}

function blockedText(a: UserAccount): string {
  const since = a.blockedAt === undefined ? '' : ` since ${when(a.blockedAt)}`;
  const by = a.blockedBy === undefined ? '' : ` by ${a.blockedBy}`;
  const why = a.blockReason === undefined || a.blockReason === '' ? '' : `: ${a.blockReason}`;
  return `blocked${since}${by}${why}`;
}

function Account({ account: a }: { account: UserAccount }) {
  const { budget } = a;
  return (
    <dl class="facts">
      <div>
        <dt>status</dt>
        <dd data-testid="admin-user-status" data-blocked={String(a.blocked)} class={a.blocked ? 'blocked' : ''}>
          {a.blocked ? blockedText(a) : 'active'}
        </dd>
      </div>
      <div>
        <dt>tokens today</dt>
        <dd>
          {count(tokens(a.day))}
          {budget.dailyTokens > 0 && ` of ${count(budget.dailyTokens)}`}
        </dd>
      </div>
      <div>
        <dt>left today</dt>
        <dd>{budget.dayTokensLeft === null ? 'no budget' : `${count(budget.dayTokensLeft)} tokens`}</dd>
      </div>
      <div>
        <dt>cost this month</dt>
        <dd>
          {usd(a.month.costUsd)}
          {budget.monthlyCostUsd > 0 && ` of ${usd(budget.monthlyCostUsd)}`}
        </dd>
      </div>
      <div>
        <dt>left this month</dt>
        <dd>{budget.monthCostLeftUsd === null ? 'no budget' : usd(budget.monthCostLeftUsd)}</dd>
      </div>
      <div>
        <dt>replies</dt>
        <dd>
          {count(a.day.replies)} today, {count(a.month.replies)} this month
        </dd>
      </div>
    </dl>
  );
}
