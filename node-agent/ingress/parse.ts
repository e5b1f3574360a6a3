/**
 * A defensive read of an Ingress from the store: what came through the API is valid, but the
 * bucket may hold anything (an older version's object, a hand-written key). The route table reads
 * only the fields checked here, so an object that passes cannot make it throw; one that does not
 * is left out with a warning, and the node agent goes on. Pure.
 */
import type { Ingress } from '../../messages/ingress';

/** A stored Ingress the route table can read, or why not. */
export type StoredIngress = { ok: true; value: Ingress } | { ok: false; error: string };

class Malformed extends Error {}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, where: string): Record<string, unknown> {
  if (!isObj(v)) throw new Malformed(`${where} is not an object`);
  return v;
}

function optObj(v: unknown, where: string): Record<string, unknown> | undefined {
  return v === undefined || v === null ? undefined : obj(v, where);
}

function optStr(v: unknown, where: string): void {
  if (v !== undefined && v !== null && typeof v !== 'string') throw new Malformed(`${where} is not a string`);
}

function optArr(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Malformed(`${where} is not a list`);
  return v;
}

function backend(v: unknown, where: string): void {
  const b = optObj(v, where);
  const s = optObj(b?.service, `${where}.service`);
  if (!s) return;
  optStr(s.name, `${where}.service.name`);
  const p = optObj(s.port, `${where}.service.port`);
  optStr(p?.name, `${where}.service.port.name`);
  if (p?.number !== undefined && typeof p.number !== 'number') throw new Malformed(`${where}.service.port.number is not a number`);
}

/** Checks the fields the route table reads: metadata, defaultBackend, rules and their paths. */
export function parseStoredIngress(v: unknown): StoredIngress {
  try {
    const o = obj(v, 'the object');
    const m = obj(o.metadata, 'metadata');
    if (typeof m.name !== 'string' || m.name === '') throw new Malformed('metadata.name is not a non-empty string');
    for (const k of ['namespace', 'creationTimestamp', 'deletionTimestamp']) optStr(m[k], `metadata.${k}`);
    const spec = optObj(o.spec, 'spec');
    backend(spec?.defaultBackend, 'spec.defaultBackend');
    optArr(spec?.rules, 'spec.rules').forEach((r, i) => {
      const rule = obj(r, `spec.rules[${i}]`);
      optStr(rule.host, `spec.rules[${i}].host`);
      const http = optObj(rule.http, `spec.rules[${i}].http`);
      optArr(http?.paths, `spec.rules[${i}].http.paths`).forEach((p, j) => {
        const where = `spec.rules[${i}].http.paths[${j}]`;
        const path = obj(p, where);
        optStr(path.path, `${where}.path`);
        optStr(path.pathType, `${where}.pathType`);
        backend(path.backend, `${where}.backend`);
      });
    });
    return { ok: true, value: v as Ingress };
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, error: e.message };
    throw e;
  }
}
