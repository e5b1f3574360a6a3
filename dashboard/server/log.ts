/** The dashboard server's logger: the process logger with `component: "dashboard"`. */
import { componentLog } from '../../common/log';

export const log = componentLog('dashboard');
