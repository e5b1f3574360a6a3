/** Function instance pods for the warm pool's unit tests (tests only). */
import { defaultPod, type Pod } from '../../messages/pod';

/** What a test changes in the instance pod. */
export interface InstancePodChanges {
  labels?: Record<string, string>;
  image?: string;
  env?: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[];
  extraVolume?: boolean;
  command?: string[];
  securityContext?: Record<string, unknown>;
  resources?: Record<string, Record<string, string>>;
  hostPort?: number;
  hostname?: string;
  mountPath?: string;
}

/** A defaulted instance pod of the shape actors/function/instance-pod.ts makes, with `o` applied. */
export function instancePodForTest(o: InstancePodChanges = {}): Pod {
  return defaultPod({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'add-aaaaa', namespace: 'default', uid: 'uid-1', labels: o.labels ?? { 'mk.io/function': 'add' } },
    spec: {
      ...(o.hostname ? { hostname: o.hostname } : {}),
      containers: [{
        name: 'function',
        image: o.image ?? 'registry.mk.local/mk-runtime-python3:latest',
        imagePullPolicy: 'IfNotPresent',
        env: o.env ?? [{ name: 'MK_FUNCTION_HANDLER', value: 'add.handler' }, { name: 'MK_FUNCTION_TIMEOUT_SECONDS', value: '60' }],
        ports: [{ name: 'http', containerPort: 8080, ...(o.hostPort ? { hostPort: o.hostPort } : {}) }],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
        volumeMounts: [{ name: 'code', mountPath: o.mountPath ?? '/code', readOnly: true }],
        ...(o.command ? { command: o.command } : {}),
        ...(o.securityContext ? { securityContext: o.securityContext } : {}),
        ...(o.resources ? { resources: o.resources } : {}),
      }],
      volumes: [
        { name: 'code', csi: { driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest: `sha256:${'a'.repeat(64)}` } } },
        ...(o.extraVolume ? [{ name: 'scratch', emptyDir: {} }] : []),
      ],
    },
  } as unknown as Pod);
}
