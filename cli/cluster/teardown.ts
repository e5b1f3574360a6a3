/** Asking a node agent to remove everything it made (pod sandboxes, CNI bridge, its containerd). */
import { request, withClient } from '../client';
import { nodeSubject } from '../../messages';

/**
 * Requests mk.node.<node>.teardown as the context's user of `dataDir` and waits for the answer.
 * Throws UnavailableError when the bus or the agent is down, TimeoutError past `timeoutMs`.
 */
export async function requestTeardown(dataDir: string, nodeName: string, timeoutMs: number): Promise<void> {
  await withClient(dataDir, (c) => request(c.bus, nodeSubject(nodeName, 'teardown'), {}, { timeoutMs }), { timeoutMs: 3000, name: 'mk-down' });
}
