/**
 * The syntax of label and annotation keys and of label values, as Kubernetes checks them
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set):
 * a key is an optional DNS-subdomain prefix and `/`, then a name of 1 to 63 alphanumerics, `-`,
 * `_` and `.`, starting and ending with an alphanumeric; a label value is empty or such a name.
 */
import { dns1123SubdomainError } from './names';

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** The most bytes all of an object's annotations may hold together (Kubernetes' limit). */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** Why `key` is not a valid label or annotation key (`[prefix/]name`), or null. */
export function qualifiedNameError(key: string): string | null {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    const bad = dns1123SubdomainError(prefix);
    if (bad) return `the prefix "${prefix}" must be a DNS subdomain: ${bad}`;
  }
  if (name.length === 0 || name.length > 63) return 'the name part must be 1 to 63 characters';
  if (!NAME.test(name)) return "the name part must consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character";
  return null;
}

/** Why `value` is not a valid label value, or null. */
export function labelValueError(value: string): string | null {
  if (value.length > 63) return 'a label value must be at most 63 characters';
  if (value !== '' && !NAME.test(value)) return "a label value must be empty or consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character";
  return null;
}
