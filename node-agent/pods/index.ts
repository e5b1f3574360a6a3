/** The pod lifecycle of the node agent: pod actors, their reconcile function, logs and exec. */
export {
  applyBackoffEvent, backoffDelayMs, crashLoopPolicy, backoffRemainingMs, containerKey, DEFAULT_CRASH_LOOP_POLICY, emptyBackoff,
  formatGoDuration, hasCountedExit, imageKey, isBackoffEvent, SANDBOX_KEY,
  type BackoffEntry, type BackoffEvent, type CrashLoopPolicy, type BackoffState,
} from './backoff';
export {
  ANNOTATION_CONTAINER_HASH, ANNOTATION_CONTAINER_IMAGE, ANNOTATION_RESTART_COUNT, buildContainerConfig, buildSandboxConfig,
  containerResources, containerSpecHash, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID,
  podCgroupParent, podHostname, podLabels, podLogDirectory, podPortMappings, podUid, type SandboxOptions,
} from './cri-spec';
export { deletionGraceSeconds, reconcileDeletion } from './deletion';
export { ContainerNotRunningError, isContainerNotRunning } from './errors';
export { garbageActions, type GarbageInput } from './garbage';
export { execInPod, type ExecResult } from './exec';
export { executeActions, isRuntimeFault, type ExecuteContext, type ExecuteOutcome } from './execute';
export { containerView, groupInstances, newestFirst } from './instances';
export {
  followContainerLogs, formatLogLines, LogLineAssembler, parseCriLogLine, readContainerLogs, resolveLogPath,
  type CriLogRecord, type FollowLogsOptions, type LogLine, type ReadLogsOptions,
} from './logs';
export { containerInstances, ObservationCache, observePod } from './observe';
export {
  podPersistenceKey, spawnPodActor,
  type PodActorDeps, type PodActorMessage, type PodActorState, type PodCrashHandler,
} from './pod-actor';
export { isRuntimeBusy, neverRan, startAbortedByRuntime } from './runtime-faults';
export { containerSecurityContext, DEFAULT_SECCOMP_PROFILE_ROOT, needsImageUser, sandboxSecurity, type ImageUser } from './security';
export { ContainerConfigError, isContainerConfigError } from './errors';
export { FAST_REQUEUE_MS, reconcilePod, type ReconcileInput, type ReconcileResult, type SyncFailures } from './reconcile';
export {
  buildPodStatus, containerIdString, containerStatusFromView, podConditions, podPhase, rfc3339FromMs, rfc3339FromNs, sameStatus,
  type ContainerView, type StatusInput,
} from './status';
export type { ObservedContainer, ObservedImage, ObservedPod, ObservedSandbox, PodAction, PodRuntime } from './types';
