/**
 * The YAML that mk reads from users (manifests, edited objects, patches): js-yaml's YAML 1.2 core
 * schema, except that an integer written with a leading zero is octal, as in YAML 1.1, which
 * kubectl reads (sigs.k8s.io/yaml on go-yaml). File modes are written that way
 * (`defaultMode: 0644` is 420, not 644:
 * https://kubernetes.io/docs/concepts/configuration/secret/#secret-files-permissions).
 * Everything else reads as the core schema does: `644` is 644, `"0644"` a string, `0o644` 420.
 * Every reader of user YAML goes through this module, so they all agree.
 */
import { CORE_SCHEMA, intCoreTag, load, loadAll, type ScalarTagDefinition, type Schema } from 'js-yaml';

/** A YAML 1.1 octal integer: a sign, a zero, then octal digits (`0644`, `-0755`). */
const LEADING_ZERO_OCTAL = /^([-+]?)0([0-7]+)$/;

/** The core schema's `!!int`, with YAML 1.1's leading-zero octal form. */
const intTag: ScalarTagDefinition<number> = {
  ...intCoreTag,
  resolve: (source, isExplicit, tagName) => {
    const m = LEADING_ZERO_OCTAL.exec(source);
    if (!m) return intCoreTag.resolve(source, isExplicit, tagName);
    const value = parseInt(m[2], 8);
    return m[1] === '-' ? -value : value;
  },
};

/** The schema mk reads user YAML with. */
export const MANIFEST_YAML_SCHEMA: Schema = CORE_SCHEMA.withTags(intTag);

/** Parses one YAML (or JSON) document as mk reads user input. Throws js-yaml's YAMLException on bad syntax. */
export function loadManifestYaml(text: string, opts: { filename?: string } = {}): unknown {
  return load(text, { ...opts, schema: MANIFEST_YAML_SCHEMA });
}

/** Parses every document of a YAML stream as mk reads user input. Throws js-yaml's YAMLException on bad syntax. */
export function loadAllManifestYaml(text: string, opts: { filename?: string } = {}): unknown[] {
  return loadAll(text, { ...opts, schema: MANIFEST_YAML_SCHEMA });
}
