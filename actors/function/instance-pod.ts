/**
 * The pod an instance of a Function runs in: the runtime image of its language, the code mounted
 * read-only at /code from the `functions.mk.io` CSI driver by digest, the loader told by env what
 * to call, a readiness probe on the loader's /healthz. Its template hash (an annotation) says
 * which spec it was made from, so a changed spec replaces instances.
 */
import { createHash } from 'node:crypto';
import {
  DEFAULT_TIMEOUT_SECONDS, FUNCTION_CODE_CSI_DRIVER, FUNCTION_LABEL, FUNCTION_PORT, RUNTIME_IMAGE_LATEST, type FunctionObject, type Pod,
} from '../../messages';
import { podName } from '../replicaset/reconcile';

/** The annotation holding the hash of the spec fields an instance was made from. */
export const TEMPLATE_HASH_ANNOTATION = 'mk.io/function-template';
/** The annotation saying since when (ms since the epoch) an instance drains. */
export const DRAINING_SINCE_ANNOTATION = 'mk.io/draining-since';
/** The annotation marking an instance a gateway saw hold a call past the timeout: it drains and is replaced. */
export const RECYCLE_ANNOTATION = 'mk.io/recycle';

/** The hash of what an instance runs: code, runtime, handler or command, env, resources and timeout. */
export function templateHash(fn: FunctionObject): string {
  const { runtime, handler, command, code, env, resources, timeoutSeconds } = fn.spec;
  const text = JSON.stringify([runtime, handler ?? null, command ?? null, code.digest ?? null, env ?? [], resources ?? null, timeoutSeconds ?? null]);
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

/** A new instance pod of `fn` (before admission), named `<fn>-<5 random>`. */
export function instancePod(fn: FunctionObject, random: () => number = Math.random): Pod {
  const how = fn.spec.handler !== undefined
    ? { name: 'MK_FUNCTION_HANDLER', value: fn.spec.handler }
    : { name: 'MK_FUNCTION_COMMAND', value: fn.spec.command ?? '' };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(fn.metadata.name, random),
      namespace: fn.metadata.namespace ?? 'default',
      labels: { [FUNCTION_LABEL]: fn.metadata.name },
      annotations: { [TEMPLATE_HASH_ANNOTATION]: templateHash(fn) },
      ownerReferences: [{
        apiVersion: 'mk.io/v1', kind: 'Function', name: fn.metadata.name, uid: fn.metadata.uid ?? '', controller: true, blockOwnerDeletion: true,
      }],
    },
    spec: {
      containers: [{
        name: 'function',
        image: RUNTIME_IMAGE_LATEST[fn.spec.runtime],
        imagePullPolicy: 'IfNotPresent',
        // The loader's own limit on a command's run (the gateway holds every call to the timeout too).
        env: [how, { name: 'MK_FUNCTION_TIMEOUT_SECONDS', value: String(fn.spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) }, ...(fn.spec.env ?? [])],
        ...(fn.spec.resources ? { resources: fn.spec.resources } : {}),
        ports: [{ name: 'http', containerPort: FUNCTION_PORT }],
        readinessProbe: { httpGet: { path: '/healthz', port: FUNCTION_PORT }, periodSeconds: 1 },
        volumeMounts: [{ name: 'code', mountPath: '/code', readOnly: true }],
      }],
      volumes: [{
        name: 'code',
        csi: { driver: FUNCTION_CODE_CSI_DRIVER, readOnly: true, volumeAttributes: { digest: fn.spec.code.digest ?? '' } },
      }],
    },
  };
  return pod as unknown as Pod;
}

/** True when the pod is Ready with an IP (the loader has loaded the code). */
export function isReadyInstance(pod: Pod): boolean {
  return !!pod.status?.podIP && !!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}
