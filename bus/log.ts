/** The bus layer's logger: the process logger with `component: "bus"`. */
import { componentLog } from '../common/log';

export const busLog = componentLog('bus');
