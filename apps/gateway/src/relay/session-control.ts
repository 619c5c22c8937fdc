// Cancel and resume for a session's replies.
import { ChatError } from '@chat-fleet/shared';
import type { SessionControl } from '../transport/ws-endpoint.js';

/** Placeholder until cross-replica cancel and resume land: answers a clear error. */
export class UnsupportedSessionControl implements SessionControl {
  cancel(): Promise<void> {
    return Promise.reject(new ChatError('bad_request', 'cancel is not supported by this gateway version'));
  }

  resume(): Promise<void> {
    return Promise.reject(new ChatError('bad_request', 'resume is not supported by this gateway version'));
  }
}
