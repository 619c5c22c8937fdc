// What other packages (the integration tests) use of the worker; the process itself starts from main.ts.
export { ModelBudget, type Admission, type ModelBudgetOptions } from './model-budget.js';
export { followReply, FollowStalledError, type FollowReplyOptions, type Subscribe, type TerminalReplyFrame } from './follow-reply.js';
