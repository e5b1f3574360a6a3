/**
 * The cluster DNS through the whole stack: `mk up` in a network namespace, a ClusterFirst pod
 * whose /etc/resolv.conf names its node's DNS with its namespace's search list, and lookups from
 * inside the pod answered by the node (a pod name, with and without the search list; NXDOMAIN
 * for a service that does not exist; REFUSED outside, since test clusters have no upstream).
 */
import type { Pod } from '../../../messages';
import { gatewayOf } from '../../../node-agent/network/cni';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

describeE2e('cluster DNS on a one-machine cluster', () => {
  let c: TestCluster;

  beforeAll(async () => { c = await startCluster(); });
  afterAll(async () => { await c?.destroy(); });

  it('gives a ClusterFirst pod the node\'s DNS, which answers its lookups', async () => {
    const pod = `apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: Pod
metadata: {name: asker, namespace: team}
spec:
  containers: [{name: app, image: busybox, command: [sleep, "3600"]}]
`;
    expect(await c.mk(['apply', '-f', '-'], { stdin: pod })).toMatchObject({ code: 0 });
    const running = await waitFor('the pod to run', async () => {
      const r = await c.mk(['get', 'pod', 'asker', '-n', 'team', '-o', 'json']);
      const p = r.code === 0 ? JSON.parse(r.stdout) as Pod : undefined;
      return p?.status?.phase === 'Running' && p.status.podIP ? p : null;
    }, 180_000);
    const node = await c.mk(['get', 'node', running.spec.nodeName!, '-o', 'json']);
    const podCIDR = (JSON.parse(node.stdout) as { spec: { podCIDR: string } }).spec.podCIDR;
    const gateway = gatewayOf(podCIDR);

    const resolv = await c.mk(['exec', 'asker', '-n', 'team', '--', 'cat', '/etc/resolv.conf']);
    expect(resolv.code).toBe(0);
    expect(resolv.stdout).toMatch(new RegExp(`^nameserver ${gateway.replace(/\./g, '\\.')}$`, 'm'));
    expect(resolv.stdout).toMatch(/^search team\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/m);
    expect(resolv.stdout).toMatch(/^options ndots:5$/m);

    const dashedIP = running.status!.podIP!.replace(/\./g, '-');
    // The server may still be waiting for the bridge the pod's sandbox made: ask until it answers.
    const full = await waitFor('the node DNS to answer', async () => {
      const r = await c.mk(['exec', 'asker', '-n', 'team', '--', 'nslookup', `${dashedIP}.team.pod.cluster.local`]);
      return r.code === 0 ? r.stdout : null;
    }, 30_000);
    expect(full).toContain(running.status!.podIP!);
    const missing = await c.mk(['exec', 'asker', '-n', 'team', '--', 'nslookup', 'nope.team.svc.cluster.local']);
    expect(missing.code).not.toBe(0);
    expect(missing.stdout + missing.stderr).toMatch(/NXDOMAIN/);
    const outside = await c.mk(['exec', 'asker', '-n', 'team', '--', 'nslookup', 'example.org.']);
    expect(outside.code).not.toBe(0);
    expect(outside.stdout + outside.stderr).toMatch(/REFUSED/);
  });
});
