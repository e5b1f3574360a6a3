/**
 * `mk apply` as kubectl's client-side apply: the configuration applied is recorded in the
 * annotation LAST_APPLIED_ANNOTATION, and each apply sends the three-way merge of the last
 * applied configuration, the new one and the live object (messages/patch/three-way.ts) as an
 * update at the live object's resourceVersion, so fields dropped from the file go, fields others
 * set stay, and a concurrent writer makes the apply read again instead of being overwritten.
 */
import { replyLost } from './api-retry';
import { API_TIMEOUT_MS, type Api } from './client';
import {
  isAlreadyExists, isConflict, isNotFound, jsonEqual, LAST_APPLIED_ANNOTATION, threeWayMerge,
  type KindInfo, type KubeObject, type ValidateMode,
} from '../messages';

/** Metadata the server owns: never part of an applied configuration. */
const SERVER_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;

/** How often a lost race is read again and merged again. */
const APPLY_RETRIES = 5;

/**
 * The configuration to apply: the manifest without status or server metadata, in its resolved
 * namespace, with the annotation recording itself (without that annotation) as JSON.
 */
export function appliedConfiguration(obj: KubeObject, kind: KindInfo, namespace: string | undefined): KubeObject {
  const metadata: Record<string, unknown> = { ...obj.metadata };
  for (const f of SERVER_METADATA) delete metadata[f];
  if (kind.namespaced && namespace) metadata.namespace = namespace; else delete metadata.namespace;
  const annotations = { ...(obj.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED_ANNOTATION];
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations; else delete metadata.annotations;
  const config = { ...obj, metadata } as KubeObject;
  delete config.status;
  const recorded = JSON.stringify(config);
  return { ...config, metadata: { ...config.metadata, annotations: { ...annotations, [LAST_APPLIED_ANNOTATION]: recorded } } };
}

/** The configuration last applied to `live`, or undefined when none was recorded (or it is unreadable). */
export function lastApplied(live: KubeObject): unknown {
  const text = live.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** What apply would store, given the live object: the three-way merge at the live resourceVersion. */
export function mergedForApply(config: KubeObject, live: KubeObject): KubeObject {
  const merged = threeWayMerge(lastApplied(live), config, live) as KubeObject;
  return { ...merged, metadata: { ...merged.metadata, resourceVersion: live.metadata.resourceVersion } };
}

/** One apply's outcome. */
export interface Applied {
  result: 'created' | 'configured' | 'unchanged';
  /** The object as stored (or as it would be, in a dry run); undefined in a client dry run. */
  object?: KubeObject;
  /** The live object before, undefined when it did not exist. */
  live?: KubeObject;
  warnings: string[];
}

/** Options of one apply. */
export interface ApplyOptions {
  validate: ValidateMode;
  dryRun: 'none' | 'client' | 'server';
}

/**
 * Applies one configuration: creates it when absent, else sends the merged object as an update
 * at the live resourceVersion, reading again when another writer came first. Throws the api's
 * errors (Invalid, NotFound for a missing namespace, Conflict when every retry lost).
 */
export async function applyObject(api: Api, kind: KindInfo, config: KubeObject, opts: ApplyOptions): Promise<Applied> {
  const namespace = config.metadata.namespace;
  const name = config.metadata.name;
  const dryRun = opts.dryRun === 'server' ? { dryRun: true } : {};
  // A lost reply is found out by reading again, for at most this long.
  const lostUntil = Date.now() + API_TIMEOUT_MS;
  let lost: Error | undefined;
  const done = (r: Applied): Applied => (lost
    ? { ...r, warnings: [...r.warnings, `the reply to a write was lost (${lost.message}); read again and applied: ${r.result}`] }
    : r);
  for (let attempt = 0; ;) {
    const live = await api.get(kind, namespace, name).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    const warnings: string[] = [];
    try {
      if (!live) {
        if (opts.dryRun === 'client') return done({ result: 'created', warnings });
        const res = await api.create({ object: config, validate: opts.validate, ...(namespace ? { namespace } : {}), ...dryRun });
        return done({ result: 'created', object: res.object, warnings: res.warnings ?? [] });
      }
      if (lastApplied(live) === undefined) {
        warnings.push(`resource ${kind.plural}/${name} is missing the ${LAST_APPLIED_ANNOTATION} annotation which mk apply needs; `
          + 'it was created by something other than mk apply (or mk create --save-config) and the annotation will be added now');
      }
      const merged = mergedForApply(config, live);
      if (opts.dryRun === 'client') return done({ result: jsonEqual(merged, live) ? 'unchanged' : 'configured', live, warnings });
      const res = await api.update({ object: merged, validate: opts.validate, ...(namespace ? { namespace } : {}), ...dryRun });
      return done({ result: res.result === 'unchanged' ? 'unchanged' : 'configured', object: res.object, live, warnings: [...warnings, ...(res.warnings ?? [])] });
    } catch (e) {
      // The reply was lost (a control plane died holding the write, or the store had no leader
      // and the api answered Timeout): read again to find out, and apply again, which converges.
      if (replyLost(e) && Date.now() < lostUntil) {
        lost ??= e as Error;
        continue;
      }
      // Someone else wrote (or created) it between our read and our write: read and merge again.
      if (!(isConflict(e) || isAlreadyExists(e)) || attempt++ >= APPLY_RETRIES) throw e;
    }
  }
}
