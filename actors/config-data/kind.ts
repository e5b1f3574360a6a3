/**
 * The ConfigMap and Secret kinds' control-plane side: a Secret's stringData is encoded into data
 * on every write (and never stored), its type defaults to Opaque; an immutable object refuses any
 * change to its data. Neither kind has a controller: node agents read them when they create
 * containers (actors/node/node-api.ts).
 */
import {
  ConfigMapKind, SecretKind, ValidationError, type ConfigMap, type KubeObject, type Secret,
} from '../../messages';
import { immutableUpdateError, normalizeSecret } from '../../messages/config-data';
import type { KindModule } from '../kind-module';

function refuseImmutable(kind: 'ConfigMap' | 'Secret', existing: KubeObject, next: KubeObject): KubeObject {
  const why = immutableUpdateError(kind, existing as unknown as ConfigMap, next as unknown as ConfigMap);
  if (why) {
    throw new ValidationError(`${kind} "${existing.metadata.name}" is invalid: ${why}`, [why]);
  }
  return next;
}

export const configMapModule: KindModule = {
  info: ConfigMapKind,
  admitUpdate: (existing, next) => refuseImmutable('ConfigMap', existing, next),
};

export const secretModule: KindModule = {
  info: SecretKind,
  defaults: (o) => normalizeSecret(o as unknown as Secret) as unknown as KubeObject,
  admitUpdate: (existing, next) => refuseImmutable('Secret', existing, next),
};
