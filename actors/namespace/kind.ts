/**
 * The Namespace kind's control-plane side: a namespace starts Active; deleting one marks it
 * Terminating, its controller deletes every namespaced object in it (through each kind's own
 * deletion policy) and then the namespace. The built-in namespaces cannot be deleted.
 */
import { BUILTIN_NAMESPACES, NamespaceKind, type KubeObject } from '../../messages';
import type { KindModule } from '../kind-module';
import { namespaceController } from './controller';

export const namespaceModule: KindModule = {
  info: NamespaceKind,
  initialStatus: () => ({ phase: 'Active' }),
  deletion: {
    refuse: (o) => ((BUILTIN_NAMESPACES as readonly string[]).includes(o.metadata.name)
      ? `namespace "${o.metadata.name}" is built in and cannot be deleted` : undefined),
    graceSeconds: () => 0,
    onMarked: (o): KubeObject => ({ ...o, status: { ...(o.status as object | undefined), phase: 'Terminating' } }),
    finishedByController: true,
  },
  controller: (ctx) => namespaceController(ctx.store, ctx.modules),
};
