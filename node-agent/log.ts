/** The node agent's logger: the process logger with `component: "node"`. */
import { componentLog, type Logger } from '../common/log';

export const log: Logger = componentLog('node');
