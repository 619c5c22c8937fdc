// The fleet at a glance: one card per gateway and worker from their heartbeats, the chat queue by
// state, the last hour's charts, and the queue's recent failures.
import type { FailedJob, Fleet, FleetInstance } from '@chat-fleet/protocol';
import type { AdminApi } from './admin-api.js';
import { ChartsSection } from './charts-section.js';
import { age, bytes, count, duration, when } from './format.js';
import { ProblemNote } from './problem-note.js';
import { LIVE_MS, SLOW_MS, usePoll } from './use-poll.js';

export function FleetView({ api }: { api: AdminApi }) {
  const fleet = usePoll(() => api.fleet(), LIVE_MS, []);
  // Asked again at once when the queue's failed count moves, else now and then.
  const failed = usePoll(() => api.failedJobs(20), SLOW_MS, [fleet.data?.queue.failed]);
  // The failed jobs last: a burst of them would push the charts out of sight.
  return (
    <>
      <section class="card" data-testid="admin-fleet" aria-labelledby="fleet-title">
        <h2 id="fleet-title">Fleet</h2>
        <ProblemNote error={fleet.error} prefix="Could not refresh the fleet:" />
        {fleet.data === undefined ? <p class="muted">Loading…</p> : <FleetBody fleet={fleet.data} />}
      </section>
      <ChartsSection api={api} />
      <section class="card" aria-labelledby="failed-title">
        <h2 id="failed-title">Recent failed jobs</h2>
        <ProblemNote error={failed.error} />
        <FailedJobs jobs={failed.data} />
      </section>
    </>
  );
}

const byRoleThenName = (a: FleetInstance, b: FleetInstance): number =>
  a.role === b.role ? a.instance.localeCompare(b.instance, undefined, { numeric: true }) : a.role === 'gateway' ? -1 : 1;

function FleetBody({ fleet }: { fleet: Fleet }) {
  const instances = [...fleet.instances].sort(byRoleThenName);
  const gateways = instances.filter((i) => i.role === 'gateway').length;
  const stale = instances.filter((i) => i.stale).length;
  return (
    <>
      <p class="muted">
        {gateways} gateway{gateways === 1 ? '' : 's'}, {instances.length - gateways} worker{instances.length - gateways === 1 ? '' : 's'}
        {stale > 0 ? `, ${stale} without a recent heartbeat` : ''}; heartbeats every {age(fleet.heartbeatMs)}.
      </p>
      <ul class="instances">
        {instances.map((i) => (
          <InstanceCard key={i.instance} instance={i} />
        ))}
      </ul>
      <QueueDepth fleet={fleet} />
    </>
  );
}

function InstanceCard({ instance: i }: { instance: FleetInstance }) {
  return (
    <li class="instance" data-testid="admin-instance" data-role={i.role} data-instance={i.instance} data-stale={String(i.stale)}>
      <div class="instance-head">
        <strong>{i.instance}</strong>
        <span class={`badge role-${i.role}`}>{i.role}</span>
      </div>
      {i.stale && (
        <p class="stale-note" data-testid="admin-stale-note">
          no heartbeat for {duration(i.lastSeenMs / 1000)}
        </p>
      )}
      <dl class="facts">
        <Fact label="version" value={i.version} />
        <Fact label="uptime" value={duration(i.uptimeSeconds)} />
        {i.sockets !== undefined && <Fact label="sockets" value={count(i.sockets)} />}
        {i.sessions !== undefined && <Fact label="sessions" value={count(i.sessions)} />}
        <Fact label="in flight" value={count(i.inflight)} />
        <Fact label="event loop p99" value={`${i.eventLoopDelayMs.toFixed(1)} ms`} />
        <Fact label="memory" value={`${bytes(i.rssBytes)} (heap ${bytes(i.heapUsedBytes)})`} />
      </dl>
    </li>
  );
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

function QueueDepth({ fleet: { queue } }: { fleet: Fleet }) {
  return (
    <>
      <h3>Chat queue</h3>
      <dl class="facts queue" data-testid="admin-queue">
        {QUEUE_STATES.map((s) => (
          <Fact key={s} label={s} value={count(queue[s])} />
        ))}
        <Fact label="oldest waiting" value={queue.oldestWaitingMs === null ? '–' : age(queue.oldestWaitingMs)} />
      </dl>
    </>
  );
}

function FailedJobs({ jobs }: { jobs: FailedJob[] | undefined }) {
  if (jobs === undefined) return <p class="muted">Loading…</p>;
  if (jobs.length === 0) return <p class="muted">None.</p>;
  return (
    <div class="table-wrap">
      <table data-testid="admin-failed">
        <thead>
          <tr>
            <th scope="col">failed at</th>
            <th scope="col">message</th>
            <th scope="col">session</th>
            <th scope="col">user</th>
            <th scope="col">attempts</th>
            <th scope="col">reason</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id} data-testid="admin-failed-job">
              <td>{when(j.finishedAt)}</td>
              <td>
                <code>{j.messageId}</code>
              </td>
              <td>
                <code>{j.sessionId}</code>
              </td>
              <td>{j.userId ?? '–'}</td>
              <td>{j.attemptsMade}</td>
              <td class="reason">{j.failedReason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
