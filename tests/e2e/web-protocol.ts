// Compile-time check, run by `tsc` (typecheck), never by jest: every frame and body the shared zod
// schemas allow fits the plain types the web client's bundle carries instead of zod, and every frame
// the page sends is one the gateway accepts. A change to the protocol that the page does not follow
// fails the typecheck here.
import type { ClientFrame, CreateSessionResponse, ServerFrame, SessionView } from '@chat-fleet/shared';
import type * as Web from '../../apps/web/src/protocol.js';

type Fits<Wide, Narrow extends Wide> = Narrow;

export type WebProtocolChecks = [
  Fits<Web.ServerFrame, ServerFrame>,
  Fits<ClientFrame, Web.ClientFrame>,
  Fits<Web.SessionView, SessionView>,
  Fits<Web.SessionInfo, CreateSessionResponse>,
];
