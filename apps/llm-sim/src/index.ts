export { SimConfigSchema, loadSimConfig, type SimConfig } from './sim-config.js';
export { startSimServer, SIM_MODELS, type SimServer, type SimServerOptions } from './sim-server.js';
export { generateReply, replySeed, REPLY_VOCABULARY_SIZE } from './reply-generator.js';
export {
  SimSettingsSchema,
  SimSettingsPatchSchema,
  SimSettingsStore,
  settingsFromConfig,
  type SimSettings,
  type SimSettingsPatch,
} from './sim-settings.js';
export { RequestLog, type LoggedRequest } from './request-log.js';
export {
  ChatCompletionRequestSchema,
  ChatMessageSchema,
  messageText,
  type ChatMessage,
  type MessageLike,
  type ToolCall,
  type ToolMessage,
  type FunctionTool,
  type ToolChoice,
} from './chat-request.js';
export { countPromptTokens } from './tokenizer.js';
export { planToolCalls, type ToolCallRequest } from './tool-calls.js';
export { toolResultsReply } from './tool-results-reply.js';
