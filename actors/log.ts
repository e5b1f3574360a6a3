/** Structured logging (pino) for the control plane and node agent: one event per line. */
import pino from 'pino';

/** The process-wide logger; level from MK_LOG_LEVEL (trace..error), default info. */
export const log = pino({
  name: 'mk',
  level: process.env.MK_LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
});

export type Logger = pino.Logger;
