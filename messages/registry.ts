/**
 * The kinds mk serves, in one list. A new kind is declared in messages/kinds/ and added here; its
 * control-plane side is a folder in actors/. Everything generic (the api, `mk get`, `mk describe`,
 * `mk delete`, `mk api-resources`, `mk explain`) works from this list.
 */
import type { KindInfo } from './kind';
import { ConfigMapKind, SecretKind } from './kinds/config-data';
import { ControllerRevisionKind } from './kinds/controller-revision';
import { CronJobKind } from './kinds/cronjob';
import { DaemonSetKind } from './kinds/daemonset';
import { DeploymentKind } from './kinds/deployment';
import { EndpointsKind, EndpointSliceKind } from './kinds/endpoints';
import { EventKind } from './kinds/event';
import { FunctionKind } from './kinds/function';
import { HorizontalPodAutoscalerKind } from './kinds/hpa';
import { IngressKind } from './kinds/ingress';
import { JobKind } from './kinds/job';
import { LeaseKind } from './kinds/lease';
import { NamespaceKind, NodeKind } from './kinds/node';
import { PodKind } from './kinds/pod';
import { ReplicaSetKind } from './kinds/replicaset';
import { ServiceKind } from './kinds/service';
import { PersistentVolumeClaimKind, PersistentVolumeKind, StorageClassKind } from './kinds/persistent-volume';
import { StatefulSetKind } from './kinds/statefulset';
import { TriggerKind } from './kinds/trigger';
import { WorkflowKind, WorkflowRunKind } from './kinds/workflow';

export type { DescribeContext, Describer, KindInfo, PrinterColumn, RelatedObjects } from './kind';

/** Every kind, in the order `mk api-resources` lists them (by name). */
export const KINDS: readonly KindInfo[] = [
  ConfigMapKind, ControllerRevisionKind, CronJobKind, DaemonSetKind, DeploymentKind, EndpointsKind, EndpointSliceKind, EventKind, FunctionKind, HorizontalPodAutoscalerKind, IngressKind, JobKind,
  LeaseKind, NamespaceKind, NodeKind, PersistentVolumeKind, PersistentVolumeClaimKind, PodKind, ReplicaSetKind, SecretKind,
  ServiceKind, StatefulSetKind, StorageClassKind, TriggerKind, WorkflowKind, WorkflowRunKind,
];

/** Finds a kind by the name a user typed: `pods`, `pod`, `po`, `Pod`, `pods.v1`. Undefined when unknown. */
export function resolveKind(name: string): KindInfo | undefined {
  const n = name.toLowerCase().split('.')[0];
  return KINDS.find((k) => k.plural === n || k.singular === n || k.kind.toLowerCase() === n || k.shortNames.includes(n));
}

/** Finds a kind by apiVersion and kind as written in a manifest. */
export function kindOf(apiVersion: string, kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.apiVersion === apiVersion && k.kind === kind);
}

/** Finds a kind by its plural (the first token of its store keys). */
export function kindByPlural(plural: string): KindInfo | undefined {
  return KINDS.find((k) => k.plural === plural);
}

/** Namespaces that exist from the start and cannot be deleted. */
export const BUILTIN_NAMESPACES = ['default', 'kube-system', 'mk-system', 'kube-node-lease'] as const;
export const DEFAULT_NAMESPACE = 'default';
