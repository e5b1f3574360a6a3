/**
 * The node agent builds both function runtime images in the background once it has started:
 * `mk up` returns with the node Ready before they are done, the agent logs each, and both
 * images are then in the node's containerd under their `:latest` names. Prints how long it took.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { RUNTIME_IMAGE_LATEST } from '../../../messages/function-names';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

describeE2e('function runtime images built in the background', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startCluster({ env: { MK_WARM_RUNTIME_IMAGES: 'on' } }); });
  afterAll(async () => { await c?.destroy(); });

  it('builds both runtime images after the node is Ready, and logs them', async () => {
    const t0 = Date.now();
    const nodes = await c.mk(['get', 'nodes']);
    expect(nodes.stdout).toMatch(/\bReady\b/);
    const logFile = path.join(c.dataDir, 'logs', 'node-agent.log');
    const read = (): string => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
    expect(read()).toContain('building the function runtime images in the background');
    await waitFor('both runtime images ready', async () => {
      const text = read();
      return ['python3', 'node'].every((r) => new RegExp(`"runtime":"${r}".*"msg":"runtime image ready"`).test(text)) ? true : null;
    }, 300_000, 500);
    console.log(`both runtime images ready ${Date.now() - t0} ms after mk up returned`);
    const ctr = fs.readdirSync(c.dataDir, { recursive: true }).map(String).find((p) => p.endsWith('containerd.sock'));
    expect(ctr).toBeDefined();
    const images = await c.run(['ctr', '-a', path.join(c.dataDir, ctr!), '-n', 'k8s.io', 'images', 'ls', '-q']);
    expect(images.stdout.split('\n')).toEqual(expect.arrayContaining([RUNTIME_IMAGE_LATEST.python3, RUNTIME_IMAGE_LATEST.node]));
  });
});
