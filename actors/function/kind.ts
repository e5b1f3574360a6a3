/**
 * The Function kind's control-plane side: its defaults, admission that the code it names is in
 * the code bucket, and the controller that keeps its instance pods and status (controller.ts).
 * Deleting a function deletes its instances through the garbage collector.
 */
import { openCodeBucket, hasCode, type CodeBucket } from '../../bus/function-code';
import { FunctionKind, ValidationError, type FunctionObject, type KubeObject } from '../../messages';
import { defaultFunction } from '../../messages/function';
import type { AllocationClaim, KindModule } from '../kind-module';
import { functionController } from './controller';

const nothingHeld = async (): Promise<void> => undefined;

/** The code bucket of each bus connection, opened once. */
const buckets = new WeakMap<object, Promise<CodeBucket>>();

/** The connection's code bucket, opened on first use; a failed open is not kept, so the next write tries again. */
function codeBucket(bus: Parameters<typeof openCodeBucket>[0]): Promise<CodeBucket> {
  const held = buckets.get(bus);
  if (held) return held;
  const opening = openCodeBucket(bus);
  buckets.set(bus, opening);
  opening.catch(() => { if (buckets.get(bus) === opening) buckets.delete(bus); });
  return opening;
}

/**
 * Refuses a function whose code is not in the bucket (`spec.code.digest: Not found`), and one
 * that still carries `spec.code.path`, which only the CLI resolves. Checked on a create and on a
 * write that names new code only: a status write, a finalizer's removal or another spec change
 * keeps the code it had, and must go through even once that code is gone.
 */
async function admitCode(bus: Parameters<typeof openCodeBucket>[0], existing: KubeObject | undefined, next: KubeObject): Promise<void> {
  const fn = next as unknown as FunctionObject;
  const had = (existing as unknown as FunctionObject | undefined)?.spec.code;
  const label = `Function.mk.io "${fn.metadata.name}" is invalid`;
  const code = fn.spec.code;
  if (code.path !== undefined || code.digest === undefined) {
    const why = `spec.code.path: Forbidden: the server takes code by digest only; \`mk apply\` and \`mk function deploy\` upload a path and set its digest`;
    throw new ValidationError(`${label}: ${why}`, [why]);
  }
  if (had?.digest === code.digest) return;
  if (!await hasCode(await codeBucket(bus), code.digest)) {
    const why = `spec.code.digest: Not found: "${code.digest}"`;
    throw new ValidationError(`${label}: ${why} (upload the code first: mk function deploy, or mk apply with spec.code.path)`, [why]);
  }
}

/** The Function kind module (actors/kinds.ts lists it). */
export const functionModule: KindModule = {
  info: FunctionKind,
  defaults: (o) => defaultFunction(o as unknown as FunctionObject) as unknown as KubeObject,
  async allocate(store, existing, next): Promise<AllocationClaim> {
    await admitCode(store.bus.nc, existing, next);
    return { object: next, undo: nothingHeld, done: nothingHeld };
  },
  controller: (ctx) => functionController({ store: ctx.store, pods: ctx.modules.find((m) => m.info.plural === 'pods')! }),
};
