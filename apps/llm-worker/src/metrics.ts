// The worker's Prometheus metrics. Labels are bounded: never a session, user or message id.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RedisClientMetrics, withTimeout } from '@chat-fleet/shared';

export const LLM_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120];
export const FIRST_TOKEN_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30];

export type QueueCounts = () => Promise<Record<string, number>>;

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly llmDuration: Histogram<'outcome'>;
  readonly llmFirstToken: Histogram;
  readonly llmTokens: Counter<'kind'>;
  readonly queueWait: Histogram;
  readonly upstreamErrors: Counter<'kind'>;
  readonly activeGenerations: Gauge;
  readonly replySources: Counter<'source'>;
  readonly budgetWaits: Counter<'reason'>;
  readonly upstreamRetries: Counter<'kind'>;
  readonly replyRestarts: Counter;
  readonly cancels: Counter;
  readonly jobsDropped: Counter;
  readonly usageTokens: Counter;
  readonly usageCost: Counter;
  readonly toolCalls: Counter<'tool' | 'outcome'>;
  readonly toolDuration: Histogram<'tool'>;
  readonly retrievals: Counter<'outcome'>;
  readonly redis: RedisClientMetrics;

  constructor(defaultLabels: Record<string, string>, queueCounts: QueueCounts) {
    this.registry.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.llmDuration = new Histogram({ name: 'llm_request_duration_seconds', help: 'Model calls from request to last token', labelNames: ['outcome'], buckets: LLM_DURATION_BUCKETS, registers });
    this.llmFirstToken = new Histogram({ name: 'llm_first_token_seconds', help: 'Model calls from request to first token', buckets: FIRST_TOKEN_BUCKETS, registers });
    this.llmTokens = new Counter({ name: 'llm_tokens_total', help: 'Model tokens by kind (prompt, completion)', labelNames: ['kind'], registers });
    this.queueWait = new Histogram({ name: 'chat_queue_wait_seconds', help: 'From enqueue to a worker taking the job', buckets: FIRST_TOKEN_BUCKETS, registers });
    this.upstreamErrors = new Counter({ name: 'llm_upstream_errors_total', help: 'Failed model calls by kind', labelNames: ['kind'], registers });
    this.replySources = new Counter({ name: 'llm_replies_total', help: 'Replies by source: model, cache, coalesced (followed an identical call)', labelNames: ['source'], registers });
    this.budgetWaits = new Counter({ name: 'llm_budget_waits_total', help: 'Jobs put back in the queue by the fleet model budget (rpm, tpm)', labelNames: ['reason'], registers });
    this.upstreamRetries = new Counter({ name: 'llm_upstream_retries_total', help: 'Model calls retried before their first token, by the failure that caused it', labelNames: ['kind'], registers });
    this.replyRestarts = new Counter({ name: 'llm_reply_restarts_total', help: 'Replies started over (reset) after the model stream broke mid-reply', registers });
    this.usageTokens = new Counter({ name: 'chat_usage_tokens_total', help: 'Tokens added to the usage ledger by finished replies, by model and kind (prompt, completion, cached: served from the cache or a coalesced reply)', labelNames: ['model', 'kind'], registers });
    this.usageCost = new Counter({ name: 'chat_usage_cost_usd_total', help: 'Cost added to the usage ledger by finished replies, in USD, by model (price table: MODEL_PRICES over the defaults)', labelNames: ['model'], registers });
    this.jobsDropped = new Counter({ name: 'llm_jobs_dropped_total', help: 'Jobs dropped without a model call because their reply had ended elsewhere (deadline, cancel, session deleted, a newer attempt)', labelNames: ['reason'], registers });
    this.toolCalls = new Counter({ name: 'llm_tool_calls_total', help: 'Tool calls the model made, by tool and outcome (ok, error: failed, timed out, refused arguments)', labelNames: ['tool', 'outcome'], registers });
    this.toolDuration = new Histogram({ name: 'llm_tool_call_seconds', help: 'Tool calls from request to result, by tool', labelNames: ['tool'], buckets: FIRST_TOKEN_BUCKETS, registers });
    this.retrievals = new Counter({ name: 'llm_context_retrievals_total', help: 'Context provider calls before the model, by outcome (passages: some went into the prompt; none: it found nothing, or failed)', labelNames: ['outcome'], registers });
    this.cancels = new Counter({ name: 'llm_cancels_total', help: 'Replies stopped by a user cancel while this worker generated them', registers });
    this.redis = new RedisClientMetrics(this.registry);
    this.activeGenerations = new Gauge({ name: 'llm_active_generations', help: 'Replies this worker is generating now', registers });
    new Gauge({
      name: 'chat_queue_jobs',
      help: 'Jobs in the chat queue by state (fleet-wide)',
      labelNames: ['state'],
      registers,
      // A hung Redis must not hang the scrape: after a second the last counts stay.
      async collect() {
        const counts = await withTimeout(queueCounts(), 1000).catch(() => undefined);
        for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
      },
    });
  }
}
