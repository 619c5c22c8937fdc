// Errors in OpenAI's shape, as the simulator answers them.
export type OpenAiErrorType = 'invalid_request_error' | 'server_error' | 'not_found_error';

export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; param: null; code: string | null };
}

export function openAiError(message: string, type: OpenAiErrorType, code: string | null = null): OpenAiErrorBody {
  return { error: { message, type, param: null, code } };
}
