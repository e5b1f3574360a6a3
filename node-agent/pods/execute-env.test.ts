import pino from 'pino';
import type { ConfigMap, Secret } from '../../messages/config-data';
import { TimeoutError } from '../../messages/errors';
import { executeActions, type ExecuteContext } from './execute';
import { FakeCriRuntime, makePod } from './fixtures';
import type { PodAction } from './types';

const log = pino({ level: 'silent' });
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('executeActions and the container environment', () => {
  const pod = makePod({
    imagePullSecrets: [{ name: 'gone' }, { name: 'reg' }],
    containers: [{
      name: 'app', image: 'registry.local:5000/app:1', command: ['echo', '$(MODE)'],
      env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } }, { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
    }],
  });
  const cms = new Map<string, ConfigMap>();
  const secrets = new Map<string, Secret>([['reg', {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'reg' }, type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { 'registry.local:5000': { username: 'u', password: 'p' } } })) },
  }]]);
  const events: string[] = [];

  async function run(cri: FakeCriRuntime, actions: PodAction[], sandboxIPs: Record<string, string[]> = {}) {
    const ctx: ExecuteContext = {
      cri, pod, sandbox: { podLogsRoot: '/tmp/mk-logs' }, log, now: Date.now,
      event: (type, reason, message) => events.push(`${type} ${reason} ${message}`),
      env: {
        objects: { configMap: async (n) => cms.get(n), secret: async (n) => secrets.get(n) },
        sandboxIPs,
      },
    };
    return executeActions(actions, ctx);
  }

  it('passes the matching registry login to PullImage, skipping a missing secret', async () => {
    const cri = new FakeCriRuntime();
    cri.registry.add('registry.local:5000/app:1');
    const pulls: unknown[] = [];
    const pull = cri.pullImage.bind(cri);
    cri.pullImage = async (req) => { pulls.push(req.auth); return pull(req); };
    await run(cri, [{ type: 'pullImage', image: 'registry.local:5000/app:1' }]);
    expect(pulls).toEqual([{ serverAddress: 'registry.local:5000', username: 'u', password: 'p' }]);
  });

  it('waits with CreateContainerConfigError, without back-off, while the ConfigMap is missing, then creates the container', async () => {
    const cri = new FakeCriRuntime();
    cri.images.add('registry.local:5000/app:1');
    const { podSandboxId } = await cri.runPodSandbox({ config: { metadata: { name: 'web', uid: 'uid-1', namespace: 'default', attempt: 0 }, logDirectory: '/tmp/mk-logs', labels: {} } as never });
    const action: PodAction = { type: 'runContainer', sandboxId: podSandboxId, sandboxAttempt: 0, container: 'app', attempt: 0, restartCount: 0, image: 'registry.local:5000/app:1', init: false };
    const missing = await run(cri, [action]);
    expect(missing.failures.containers?.app).toEqual({ reason: 'CreateContainerConfigError', message: 'configmap "cfg" not found' });
    expect(missing.events).toEqual([]);
    expect(cri.calls).not.toContain('createContainer');
    expect(events).toContain('Warning Failed Error: configmap "cfg" not found');

    cms.set('cfg', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { mode: 'fast' } });
    const ok = await run(cri, [action], { [podSandboxId]: ['10.244.0.9'] });
    expect(ok.failures).toEqual({});
    const created = [...cri.containers.values()][0].config;
    expect(created.command).toEqual(['echo', 'fast']);
    expect(created.envs).toEqual([{ key: 'MODE', value: 'fast' }, { key: 'IP', value: '10.244.0.9' }]);
  });

  it('makes a control plane that does not answer for a ConfigMap or a pull secret the pod\'s waiting reason, never a crash', async () => {
    const cri = new FakeCriRuntime();
    cri.images.add('registry.local:5000/app:1');
    cri.registry.add('registry.local:5000/app:1');
    const down = async (): Promise<never> => { throw new TimeoutError('request mk.api.node.n1.pod-object: no reply within 5000 ms'); };
    const ctx: ExecuteContext = {
      cri, pod, sandbox: { podLogsRoot: '/tmp/mk-logs' }, log, now: Date.now,
      env: { objects: { configMap: down, secret: down } },
    };
    // The pull goes on without the login it could not read.
    const pulled = await executeActions([{ type: 'pullImage', image: 'registry.local:5000/app:1' }], ctx);
    expect(pulled.failures).toEqual({});
    const { podSandboxId } = await cri.runPodSandbox({ config: { metadata: { name: 'web', uid: 'uid-1', namespace: 'default', attempt: 0 }, logDirectory: '/tmp/mk-logs', labels: {} } as never });
    const r = await executeActions([{ type: 'runContainer', sandboxId: podSandboxId, sandboxAttempt: 0, container: 'app', attempt: 0, restartCount: 0, image: 'registry.local:5000/app:1', init: false }], ctx);
    expect(r.failures.containers?.app).toEqual({
      reason: 'CreateContainerConfigError', message: expect.stringMatching(/could not read the container's ConfigMaps and Secrets: .*no reply/) as unknown as string,
    });
    expect(cri.calls).not.toContain('createContainer');
  });
});
