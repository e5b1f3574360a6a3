/**
 * Names and keys. Object names follow Kubernetes' DNS-1123 rules
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/names/). Names become NATS
 * subject tokens and KV key tokens; a DNS-1123 subdomain may contain '.', which is a token
 * separator in NATS, so it is encoded as '_' (which a valid name never contains).
 */

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Returns why `name` is not a DNS-1123 label (63 chars max: namespaces, container names), or null. */
export function dns1123LabelError(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 63) return `must be no more than 63 characters (got ${name.length})`;
  if (!LABEL.test(name)) {
    return "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
  }
  return null;
}

/** Returns why `name` is not a DNS-1123 subdomain (253 chars max: most object names), or null. */
export function dns1123SubdomainError(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 253) return `must be no more than 253 characters (got ${name.length})`;
  if (!SUBDOMAIN.test(name)) {
    return "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  return null;
}

/** Encodes a valid name as one NATS token ('.' -> '_'). */
export function encodeToken(name: string): string {
  return name.replace(/\./g, '_');
}

/** Inverse of encodeToken. */
export function decodeToken(token: string): string {
  return token.replace(/_/g, '.');
}

/** The namespace token used in keys of cluster-scoped kinds. */
export const CLUSTER_SCOPE = '_cluster';

/** KV key of an object: `<plural>.<namespace>.<name>`. */
export function objectKey(plural: string, namespace: string | undefined, name: string): string {
  return `${plural}.${namespace ? encodeToken(namespace) : CLUSTER_SCOPE}.${encodeToken(name)}`;
}

/** Key prefix filter for a kind, optionally one namespace: `pods.>` or `pods.default.>`. */
export function keyFilter(plural: string, namespace?: string): string {
  return namespace ? `${plural}.${encodeToken(namespace)}.>` : `${plural}.>`;
}

/** Splits a key back into its parts. */
export function parseKey(key: string): { plural: string; namespace: string | undefined; name: string } {
  const [plural, ns, name] = key.split('.');
  return { plural, namespace: ns === CLUSTER_SCOPE ? undefined : decodeToken(ns), name: decodeToken(name) };
}

/**
 * An actor name for `namespace/name`. nact allows only `[a-z0-9-$_.+!*'(),]`, so '/' becomes
 * '$' (never part of a DNS-1123 name) and the result is unique per object.
 */
export function actorName(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}$${name}` : name;
}
