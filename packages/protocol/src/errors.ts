// Stable error codes: one table for the wire, REST status codes and retry semantics.

export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  busy: 409,
  too_large: 413,
  rate_limited: 429,
  /** A user's token or cost budget (USER_DAILY_TOKENS, USER_MONTHLY_COST_USD) is spent until it resets. */
  quota_exceeded: 429,
  internal: 500,
  upstream_error: 502,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];
