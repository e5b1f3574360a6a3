/** The kinds mk serves: how each is named, stored and validated. */
import type { z } from 'zod';
import { NamespaceSchema, NodeSchema } from './cluster';
import { EventSchema } from './event';
import { PodSchema } from './pod';

export interface KindInfo {
  apiVersion: string;
  kind: string;
  /** Lower-case plural: the first token of its keys and the name `mk get` takes. */
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  schema: z.ZodType;
  /**
   * Recorded by mk's components and never written through the API (events): apply refuses a
   * manifest of this kind, delete refuses its objects.
   */
  readOnly?: boolean;
}

export const KINDS: readonly KindInfo[] = [
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', shortNames: ['po'], namespaced: true, schema: PodSchema },
  { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', shortNames: ['ns'], namespaced: false, schema: NamespaceSchema },
  { apiVersion: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', shortNames: ['no'], namespaced: false, schema: NodeSchema },
  { apiVersion: 'v1', kind: 'Event', plural: 'events', singular: 'event', shortNames: ['ev'], namespaced: true, schema: EventSchema, readOnly: true },
];

/** Finds a kind by the name a user typed: `pods`, `pod`, `po`, `Pod`, `pods.v1`. */
export function resolveKind(name: string): KindInfo | undefined {
  const n = name.toLowerCase().split('.')[0];
  return KINDS.find((k) => k.plural === n || k.singular === n || k.kind.toLowerCase() === n || k.shortNames.includes(n));
}

/** Finds a kind by apiVersion and kind as written in a manifest. */
export function kindOf(apiVersion: string, kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.apiVersion === apiVersion && k.kind === kind);
}

/** Namespaces that exist from the start and cannot be deleted. */
export const BUILTIN_NAMESPACES = ['default', 'kube-system', 'mk-system'] as const;
export const DEFAULT_NAMESPACE = 'default';
