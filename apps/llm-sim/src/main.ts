// Composition root of the simulator process: config from the environment, then the server, its logger and signal handling.
import { loadOrExit } from '@chat-fleet/shared';
import { runServerProcess } from '@chat-fleet/shared/http';
import { loadSimConfig } from './sim-config.js';
import { startSimServer } from './sim-server.js';

const config = loadOrExit(() => loadSimConfig(process.env));
await runServerProcess(
  { name: 'llm-sim', level: config.LOG_LEVEL, port: config.LLM_SIM_PORT, host: config.HOST },
  (logger) => startSimServer(config, { logger }),
  () => ({ ttftMs: config.SIM_TTFT_MS, tokensPerSec: config.SIM_TOKENS_PER_SEC }),
);
