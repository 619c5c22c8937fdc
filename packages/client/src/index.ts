// @chat-fleet/client: the one client of the chat fleet's protocol, for browsers and Node.
export { ChatClient, randomId, type ChatClientOptions, type SessionEnd } from './chat-client.js';
export { ChatSocket, closeAction, type ChatSocketOptions, type CloseAction, type ConnectionState, type CreateWebSocket, type SocketListener, type WebSocketLike } from './chat-socket.js';
export { ChatApi, ChatApiError, type ChatApiOptions, type HistoryPage, type SessionCredentials, type SessionListPage, type UsagePeriod, type UsageReport } from './rest.js';
export { Reply, ReplyError, type ReplyDone, type ReplyErrorCode, type ReplyEvent, type ReplyFailed, type ReplyOutcome } from './reply.js';
export { ReplyAssembler, assembleRecorded, type AssembleStep, type RecordedReply, type ReplyFrameLike, type ReplyPhase } from './reply-assembler.js';
export { decodeServerFrame, encodeClientFrame, isReplyEvent, isReplyFrame } from './frames.js';
export type { ToolCall, ToolCallState } from './reply-events.js';
export type * from './frames.js';
export { Emitter } from './emitter.js';
export { ConversationStore, unsentNote, type ChatSnapshot, type ConversationOptions, type HistoryState, type Refusal } from './conversation-store.js';
export * from './conversation.js';
export type { CreateSessionBody, CreateSessionResponse, RenameSessionResponse, SessionList, SessionListItem, SessionView } from '@chat-fleet/protocol';
