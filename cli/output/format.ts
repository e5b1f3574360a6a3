/** `-o json|yaml|name`: objects as kubectl prints them (one object alone, several as a v1 List). */
import type { KindInfo, KubeObject } from '../../messages';
import { resourceName } from '../../messages/kind';

/** Output formats `mk get` accepts besides the default table. */
export const OUTPUT_FORMATS = ['wide', 'json', 'yaml', 'name'] as const;
/** One of OUTPUT_FORMATS. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Wraps several objects the way kubectl does: `{apiVersion: v1, kind: List, items, metadata}`. */
export function asList(items: KubeObject[]): Record<string, unknown> {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

/** JSON with kubectl's 4-space indent and a trailing newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 4) + '\n';
}

/** YAML in block style, no line folding, keys in their stored order. */
export function toYaml(value: unknown): string {
  // Loaded here, not at the top: `mk get` prints a table far more often than YAML.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
  const { dump } = require('js-yaml') as typeof import('js-yaml');
  return dump(value, { lineWidth: -1, noRefs: true, seqNoIndent: true });
}

/** `kind.group/name` lines (`pod/demo`, `deployment.apps/web`), as `-o name` prints them. */
export function toNames(kind: KindInfo, objects: KubeObject[]): string {
  return objects.map((o) => `${resourceName(kind, o.metadata.name)}\n`).join('');
}

/**
 * Renders objects in a structured format. `single` is true when the user named exactly one object:
 * then the object is printed by itself, otherwise as a List (even when empty).
 */
export function renderStructured(format: 'json' | 'yaml', objects: KubeObject[], single: boolean): string {
  const value = single && objects.length === 1 ? objects[0] : asList(objects);
  return format === 'json' ? toJson(value) : toYaml(value);
}
