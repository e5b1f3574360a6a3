/**
 * Structured logging (pino) for every mk process: one JSON event per line, level from
 * MK_LOG_LEVEL (trace..error, default info). Layers take a child logger with their component name,
 * so a line says which part of the process wrote it.
 */
import pino from 'pino';

/** The process-wide logger. */
export const log = pino({
  name: 'mk',
  level: process.env.MK_LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
});

export type Logger = pino.Logger;

const components = new Map<string, Logger>();

/** The logger of one component (`bus`, `node`, ...): a child of `log` with `component` set. */
export function componentLog(component: string): Logger {
  let l = components.get(component);
  if (!l) {
    l = log.child({ component });
    components.set(component, l);
  }
  return l;
}

/**
 * Sets the level of the process logger and of every component logger (pino children keep the
 * level they were created with). The CLI silences them so JSON output stays parseable.
 */
export function setLogLevel(level: pino.LevelWithSilent): void {
  log.level = level;
  for (const l of components.values()) l.level = level;
}
