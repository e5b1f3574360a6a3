/**
 * The service proxy inside a node agent that `mk up` started in a test namespace: it programs the
 * namespace once the node has its pod CIDR, exports its sync metrics, and `mk down` removes every
 * chain and jump it made.
 */
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const maybe = canRunE2e() ? describe : describe.skip;
if (!canRunE2e()) console.warn('skipping node agent service proxy e2e test: needs root, containerd and nsenter');

jest.setTimeout(300_000);

maybe('the node agent\'s service proxy', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startCluster(); });
  afterAll(async () => { await c?.destroy(); });

  const save = async (): Promise<string> => (await c.run(['iptables-save'])).stdout;

  it('programs the node\'s namespace and removes exactly its rules on mk down', async () => {
    const rules = await waitFor('the proxy\'s chains', async () => {
      const s = await save();
      // The last jump the first sync makes.
      const filter = s.slice(s.indexOf('*filter'), s.indexOf('COMMIT', s.indexOf('*filter')));
      return s.includes('*filter') && /^-A OUTPUT .*-j MK-SERVICES$/m.test(filter) ? s : undefined;
    }, 60_000);
    expect(rules).toMatch(/^-A PREROUTING .*-j MK-SERVICES$/m);
    expect(rules).toMatch(/^-A FORWARD .*-j MK-FORWARD$/m);
    expect((await c.run(['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables'])).stdout.trim()).toBe('1');
    const down = await c.mk(['down'], { timeoutMs: 180_000 });
    expect(down.code).toBe(0);
    const left = await save();
    expect(left).not.toMatch(/MK-(SERVICES|NODEPORTS|MARK-MASQ|POSTROUTING|EXTERNAL-SERVICES|FORWARD|SVC-|SEP-)/);
  });
});
