/**
 * Where a stateful set's rollout is, as `mk rollout status sts/NAME` says it (kubectl's
 * StatefulSetStatusViewer, k8s.io/kubectl pkg/polymorphichelpers/rollout_status.go).
 */
import type { StatefulSet } from '../messages';
import type { RolloutState } from './rollout';

/**
 * The rollout state of `sts`: only RollingUpdate has one. A rollingUpdate (mk always defaults one,
 * with partition 0) is done once replicas minus partition pods are updated, in kubectl's words
 * "partitioned roll out complete"; without one, once the current revision is the update revision.
 */
export function statefulSetRolloutState(sts: StatefulSet): RolloutState {
  const strategy = sts.spec.updateStrategy;
  if ((strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    return { done: false, failed: true, message: 'rollout status is only available for RollingUpdate strategy type' };
  }
  const s = sts.status;
  if (!s || !s.observedGeneration || (sts.metadata.generation ?? 0) > s.observedGeneration) {
    return { done: false, failed: false, message: 'Waiting for statefulset spec update to be observed...' };
  }
  const replicas = sts.spec.replicas ?? 1;
  const ready = s.readyReplicas ?? 0;
  if (ready < replicas) return { done: false, failed: false, message: `Waiting for ${replicas - ready} pods to be ready...` };
  const updated = s.updatedReplicas ?? 0;
  if (strategy?.rollingUpdate) {
    const want = replicas - (strategy.rollingUpdate.partition ?? 0);
    if (updated < want) {
      return { done: false, failed: false, message: `Waiting for partitioned roll out to finish: ${updated} out of ${want} new pods have been updated...` };
    }
    return { done: true, failed: false, message: `partitioned roll out complete: ${updated} new pods have been updated...` };
  }
  if (s.updateRevision !== s.currentRevision) {
    return { done: false, failed: false, message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${s.updateRevision}...` };
  }
  return { done: true, failed: false, message: `statefulset rolling update complete ${s.currentReplicas ?? 0} pods at revision ${s.currentRevision}...` };
}
