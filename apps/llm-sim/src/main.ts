// Composition root of the simulator process: config from the environment, logger, server, signal handling.
import { createLogger, loadOrExit } from '@chat-fleet/shared';
import { loadSimConfig } from './sim-config.js';
import { startSimServer } from './sim-server.js';

const config = loadOrExit(() => loadSimConfig(process.env));
const logger = createLogger({ name: 'llm-sim', instance: `llm-sim-${process.pid}`, level: config.LOG_LEVEL, pretty: false });
const sim = await startSimServer(config, { logger }).catch((err: unknown) => {
  // Typically EADDRINUSE: one line and a non-zero exit instead of an unhandled rejection's stack.
  logger.fatal({ err, port: config.LLM_SIM_PORT, host: config.HOST }, 'llm-sim could not listen');
  process.exit(1);
});
logger.info({ url: sim.url, ttftMs: config.SIM_TTFT_MS, tokensPerSec: config.SIM_TOKENS_PER_SEC }, `llm-sim listening on ${sim.url}`);

const shutdown = (signal: NodeJS.Signals): void => {
  logger.info({ signal }, 'shutting down');
  sim.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'close failed');
      process.exit(1);
    },
  );
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
