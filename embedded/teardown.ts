/** Asking a node agent to remove everything it made (pod sandboxes, CNI bridge, its containerd). */
import { request } from '../bus';
import { nodeSubject } from '../messages';
import { connectWithContext } from './context';

/**
 * Requests mk.node.<node>.teardown as the context's user of `dataDir` and waits for the answer.
 * Throws UnavailableError when the bus or the agent is down, TimeoutError past `timeoutMs`.
 */
export async function requestTeardown(dataDir: string, nodeName: string, timeoutMs: number): Promise<void> {
  const { bus } = await connectWithContext(dataDir, { timeoutMs: 3000, name: 'mk-down' });
  try {
    await request(bus, nodeSubject(nodeName, 'teardown'), {}, { timeoutMs });
  } finally {
    await bus.close();
  }
}
