import { renderTable, tabwrite, DESCRIBE_TABWRITER } from '../../../cli/output/tabwriter';
import { renderObjects } from '../../../cli/output/tables';
import { resolveKind, type Event, type KubeObject, type Node, type Pod } from '../../../messages';

const NOW = Date.parse('2024-05-01T12:00:00Z');

function pod(name: string, extra: Partial<Pod> = {}, ns = 'default'): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, creationTimestamp: new Date(NOW - 65_000).toISOString() },
    spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: 'node-1' },
    status: {
      phase: 'Running', podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }],
      containerStatuses: [{ name: 'c', image: 'busybox', ready: true, restartCount: 0, state: { running: {} }, lastState: {} }],
    },
    ...extra,
  };
}

describe('tabwriter', () => {
  it('pads every column but the last to its widest cell plus 3, at least 6 (kubectl get)', () => {
    expect(renderTable(['NAME', 'READY', 'STATUS'], [['demo', '1/1', 'Running'], ['a-much-longer-name', '0/1', 'Pending']])).toBe(
      'NAME                 READY   STATUS\n'
      + 'demo                 1/1     Running\n'
      + 'a-much-longer-name   0/1     Pending\n',
    );
  });

  it('applies the minimum width of 6', () => {
    expect(renderTable(['A', 'B'], [['x', 'y']])).toBe('A     B\nx     y\n');
  });

  it('aligns column blocks separately where a line without the column breaks them (describe)', () => {
    const text = 'Name:\tdemo\nNamespace:\tdefault\nIPs:\n  IP:\t10.0.0.1\nStatus:\tRunning\n';
    expect(tabwrite(text, DESCRIBE_TABWRITER)).toBe(
      'Name:       demo\nNamespace:  default\nIPs:\n  IP:    10.0.0.1\nStatus:  Running\n',
    );
  });

  it('renders nothing for no rows and no header', () => {
    expect(renderTable(null, [])).toBe('');
  });
});

describe('renderObjects', () => {
  const pods = resolveKind('pods')!;

  it('prints the pod table exactly like kubectl', () => {
    expect(renderObjects(pods, [pod('demo')], { now: NOW })).toBe(
      'NAME   READY   STATUS    RESTARTS   AGE\n'
      + 'demo   1/1     Running   0          65s\n',
    );
  });

  it('adds NAMESPACE first with -A and IP/NODE with wide', () => {
    const out = renderObjects(pods, [pod('demo'), pod('web', {}, 'kube-system')], { now: NOW, wide: true, withNamespace: true });
    expect(out.split('\n')[0]).toBe('NAMESPACE     NAME   READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES');
    expect(out.split('\n')[2]).toBe('kube-system   web    1/1     Running   0          65s   10.244.0.5   node-1   <none>           <none>');
  });

  it('leaves out headers with --no-headers', () => {
    expect(renderObjects(pods, [pod('demo')], { now: NOW, noHeaders: true })).toBe('demo   1/1   Running   0     65s\n');
  });

  it('prints nodes with status, roles and version; wide adds addresses and runtime', () => {
    const node: Node = {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name: 'node-1', creationTimestamp: new Date(NOW - 3 * 86_400_000 - 2 * 3_600_000).toISOString(), labels: { 'node-role.kubernetes.io/control-plane': '' } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '192.168.1.2' }],
        nodeInfo: { kubeletVersion: 'mk-0.1.0', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.6.20' },
      },
    };
    const out = renderObjects(resolveKind('nodes')!, [node], { now: NOW, wide: true });
    expect(out).toBe(
      'NAME     STATUS                     ROLES           AGE    VERSION    INTERNAL-IP   EXTERNAL-IP   OS-IMAGE              KERNEL-VERSION   CONTAINER-RUNTIME\n'
      + 'node-1   Ready,SchedulingDisabled   control-plane   3d2h   mk-0.1.0   192.168.1.2   <none>        Debian GNU/Linux 12   6.1.0            containerd://1.6.20\n',
    );
  });

  it('prints namespaces with their phase (Active by default)', () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', creationTimestamp: new Date(NOW - 5000).toISOString() } };
    expect(renderObjects(resolveKind('ns')!, [ns], { now: NOW })).toBe('NAME      STATUS   AGE\ndefault   Active   5s\n');
  });

  it('prints events like kubectl get events: last seen (with repeats), type, reason, object, message', () => {
    const at = (ago: number) => new Date(NOW - ago).toISOString();
    const ev = (name: string, reason: string, message: string, count: number, first: number, last: number, type: Event['type'] = 'Normal'): KubeObject => ({
      apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u1' },
      reason, message, type, count, firstTimestamp: at(first), lastTimestamp: at(last), source: { component: 'mk-node', host: 'n1' },
    } as Event as unknown as KubeObject);
    const events = [
      ev('web.1', 'Scheduled', 'Successfully assigned default/web to n1', 1, 70_000, 70_000),
      ev('web.2', 'BackOff', 'Back-off restarting failed container app in pod web_default(u1)', 3, 300_000, 5_000, 'Warning'),
    ];
    expect(renderObjects(resolveKind('events')!, events, { now: NOW })).toBe(
      'LAST SEEN         TYPE      REASON      OBJECT    MESSAGE\n'
      + '70s               Normal    Scheduled   pod/web   Successfully assigned default/web to n1\n'
      + '5s (x3 over 5m)   Warning   BackOff     pod/web   Back-off restarting failed container app in pod web_default(u1)\n');
    const wide = renderObjects(resolveKind('ev')!, events.slice(0, 1), { now: NOW, wide: true, withNamespace: true });
    expect(wide.split('\n')[0]).toMatch(/^NAMESPACE\s+LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\s+SOURCE\s+FIRST SEEN\s+COUNT\s+NAME$/);
    expect(wide.split('\n')[1]).toMatch(/^default\s+70s\s+Normal\s+Scheduled\s+pod\/web\s+Successfully assigned default\/web to n1\s+mk-node, n1\s+\S+\s+1\s+web\.1$/);
  });
});
