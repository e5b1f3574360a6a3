/**
 * Structured logging (pino) for the bus layer. bus/ sits below actors/ and must not import it, so it
 * keeps its own logger with the same settings: one event per line, level from MK_LOG_LEVEL.
 */
import pino from 'pino';

/** The bus layer's logger (`component: "bus"`); level from MK_LOG_LEVEL (trace..error), default info. */
export const busLog = pino({
  name: 'mk',
  level: process.env.MK_LOG_LEVEL ?? 'info',
  base: { pid: process.pid, component: 'bus' },
});
