/**
 * `mk label` and `mk annotate`: reading `KIND NAME... key=value key-` (kubectl's syntax) and
 * turning the changes into a merge patch, with kubectl's checks: keys and label values must be
 * well formed, and changing an existing value needs --overwrite.
 * Syntax: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
 */
import { CliError } from './errors';
import { labelValueError, qualifiedNameError } from '../messages/label-syntax';

/** What a command does to one map: keys to set and keys to remove. */
export interface MetadataChanges {
  set: Record<string, string>;
  remove: string[];
}

/**
 * Splits the arguments into targets (`KIND`, names, `KIND/NAME`) and changes (`key=value`,
 * `key-`). Throws CliError naming a malformed change; none at all is an error too.
 */
export function parseMetadataArgs(args: string[], what: 'label' | 'annotation'): { targets: string[]; changes: MetadataChanges } {
  const targets: string[] = [];
  const changes: MetadataChanges = { set: {}, remove: [] };
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq >= 0) {
      const key = a.slice(0, eq);
      const value = a.slice(eq + 1);
      const bad = qualifiedNameError(key) ?? (what === 'label' ? labelValueError(value) : null);
      if (bad) throw new CliError(`invalid ${what} "${a}": ${bad}`);
      if (Object.hasOwn(changes.set, key) || changes.remove.includes(key)) throw new CliError(`${what} "${key}" is given more than once`);
      changes.set[key] = value;
    } else if (a.endsWith('-') && targets.length > 0) {
      const key = a.slice(0, -1);
      const bad = qualifiedNameError(key);
      if (bad) throw new CliError(`invalid ${what} to remove "${a}": ${bad}`);
      if (Object.hasOwn(changes.set, key) || changes.remove.includes(key)) throw new CliError(`${what} "${key}" is given more than once`);
      changes.remove.push(key);
    } else {
      if (Object.keys(changes.set).length + changes.remove.length > 0) throw new CliError(`"${a}" is neither key=value nor key-: objects come before the ${what}s`);
      targets.push(a);
    }
  }
  if (targets.length === 0) throw new CliError(`give the objects: KIND NAME... or KIND/NAME..., then the ${what}s`);
  if (Object.keys(changes.set).length + changes.remove.length === 0) throw new CliError(`at least one ${what} update is required (key=value to set, key- to remove)`);
  return { targets, changes };
}

/**
 * The merge patch for one object's current map, or null when it would change nothing. Throws
 * CliError when a key would change value without `overwrite`. `missing` collects the keys to
 * remove that are not there (kubectl reports them and goes on).
 */
export function metadataPatch(
  field: 'labels' | 'annotations', current: Record<string, string> | undefined, changes: MetadataChanges, overwrite: boolean, missing: string[],
): Record<string, unknown> | null {
  const have = current ?? {};
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(changes.set)) {
    if (Object.hasOwn(have, k) && have[k] !== v && !overwrite) throw new CliError(`'${k}' already has a value (${have[k]}), and --overwrite is false`);
    if (have[k] !== v) out[k] = v;
  }
  for (const k of changes.remove) {
    if (Object.hasOwn(have, k)) out[k] = null; else missing.push(k);
  }
  return Object.keys(out).length === 0 ? null : { metadata: { [field]: out } };
}
