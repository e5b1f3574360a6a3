/**
 * The HorizontalPodAutoscaler kind's control-plane side: Kubernetes' defaults (minReplicas 1, cpu
 * at 80 % when no metric is given, the behavior's windows and policies) and the controller.
 */
import { defaultHpa, HorizontalPodAutoscalerKind, type HorizontalPodAutoscaler, type KubeObject } from '../../messages';
import type { KindModule } from '../kind-module';
import { hpaController } from './controller';

export const hpaModule: KindModule = {
  info: HorizontalPodAutoscalerKind,
  defaults: (o) => defaultHpa(o as unknown as HorizontalPodAutoscaler) as unknown as KubeObject,
  initialStatus: () => ({ currentReplicas: 0, desiredReplicas: 0 }),
  controller: (ctx) => hpaController(ctx.store, ctx.modules),
};
