/**
 * What the commands that read manifests (apply, create, replace, diff) share: their -f, -R and
 * --validate flags, and reading the objects once, validated, before anything is sent.
 */
import { Flags } from '@oclif/core';
import { CliError } from './errors';
import { printError } from './output/io';
import { readManifests, validateAll, type ManifestDoc, type ValidatedDoc } from './manifest-reader';
import { DEFAULT_NAMESPACE, type ValidateMode } from '../messages';

/** -f and -R; -f is required unless the command has another source of objects. */
export function fileFlags(required: boolean) {
  return {
    filename: Flags.string({ char: 'f', description: 'file, directory or - (stdin) with the objects', required, multiple: true, multipleNonGreedy: true }),
    recursive: Flags.boolean({ char: 'R', description: 'process directories recursively', default: false }),
  };
}

/** --validate as create, replace and diff take it (apply adds `ignore`). */
export const validateFlag = {
  validate: Flags.string({ description: 'strict: unknown fields are errors; warn: they are warnings and dropped', options: ['strict', 'warn', 'true', 'false'], default: 'strict' }),
};

/** The validation mode a --validate value asks for: strict for strict and true, else warn. */
export function validateMode(flag: string): ValidateMode {
  return flag === 'strict' || flag === 'true' ? 'strict' : 'warn';
}

/**
 * The objects to work on, all validated (and their namespaces checked against -n) before any is
 * sent: from -f, or from `docs` when given. Throws what reading and validating throw.
 */
export async function readObjects(
  flags: { filename?: string[]; recursive: boolean; validate: string; namespace?: string }, docs?: ManifestDoc[],
): Promise<{ docs: ValidatedDoc[]; mode: ValidateMode }> {
  const mode = validateMode(flags.validate);
  const validated = validateAll(docs ?? await readManifests(flags.filename ?? [], { recursive: flags.recursive }), mode);
  checkNamespaces(validated, flags.namespace);
  return { docs: validated, mode };
}

/** The namespace an object goes to: its own, else -n, else default; none for cluster-scoped kinds. */
export function objectNamespace(d: ValidatedDoc, flag: string | undefined): string | undefined {
  return d.kind.namespaced ? d.object.metadata.namespace ?? flag ?? DEFAULT_NAMESPACE : undefined;
}

/**
 * Runs `each` on every object in order, with its namespace resolved; an object that fails is
 * reported and the others still go. Resolves to whether any failed (the command then exits 1).
 */
export async function forEachObject(
  docs: ValidatedDoc[], namespaceFlag: string | undefined, each: (d: ValidatedDoc, namespace: string | undefined) => Promise<void>,
): Promise<boolean> {
  let failed = false;
  for (const d of docs) {
    try {
      await each(d, objectNamespace(d, namespaceFlag));
    } catch (e) {
      failed = true;
      printError(e);
    }
  }
  return failed;
}

/** kubectl refuses an object whose namespace differs from an explicit `-n`: throws CliError. */
export function checkNamespaces(docs: ValidatedDoc[], flag: string | undefined): void {
  if (!flag) return;
  for (const d of docs) {
    const ns = d.object.metadata.namespace;
    if (d.kind.namespaced && ns && ns !== flag) {
      throw new CliError(`the namespace from the provided object "${ns}" does not match the namespace "${flag}". You must pass '--namespace=${ns}' to perform this operation.`);
    }
  }
}
