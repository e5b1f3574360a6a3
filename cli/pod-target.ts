/** Finding the pod, its node and the container that `mk logs` and `mk exec` talk to. */
import type { Pod } from '../messages';
import { resolveKind } from '../messages/registry';
import type { Api } from './client';
import { CliError } from './errors';

/** A pod's container on its node. */
export interface PodTarget {
  pod: Pod;
  node: string;
  container: string;
  /** kubectl's note when it picked a container for the user (`Defaulted container ...`). */
  note?: string;
}

const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/**
 * Reads the pod and picks the container: `-c`, else the default-container annotation, else the
 * first one (with kubectl's note when the pod has several). Throws NotFoundError for a missing pod,
 * CliError for an unknown container or a pod not yet on a node.
 */
export async function findPodTarget(api: Api, namespace: string, name: string, container: string | undefined): Promise<PodTarget> {
  const pod = (await api.get(resolveKind('pods')!, namespace, name)) as Pod;
  const init = (pod.spec.initContainers ?? []).map((c) => c.name);
  const main = pod.spec.containers.map((c) => c.name);
  let chosen = container;
  let note: string | undefined;
  if (chosen !== undefined) {
    if (!main.includes(chosen) && !init.includes(chosen)) {
      throw new CliError(`container ${chosen} is not valid for pod ${name}`);
    }
  } else {
    const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
    chosen = annotated && main.includes(annotated) ? annotated : main[0];
    if (main.length + init.length > 1 && !annotated) {
      note = `Defaulted container "${chosen}" out of: ${[...main, ...init.map((c) => `${c} (init)`)].join(', ')}`;
    }
  }
  const node = pod.spec.nodeName;
  if (!node) throw new CliError(`pod "${name}" is not scheduled on a node yet (phase ${pod.status?.phase ?? 'Pending'})`);
  return { pod, node, container: chosen, note };
}
