/** The control plane's logger: the process logger with `component: "control-plane"`. */
import { componentLog, type Logger } from '../common/log';

export const log: Logger = componentLog('control-plane');
export type { Logger };
