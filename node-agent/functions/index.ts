/** Functions on the node: the warm pool of generic runtime containers and its adoptions (the loaders are assets beside them). */
export {
  adoptedContainerAnnotations, adoptedContainerLabels, adoptedSandboxLabels, adoptionOverlay, AdoptionStore, LABEL_FUNCTION_POOL,
  LABEL_POOL_MEMBER, POOL_NAMESPACE, type AdoptionRecord, type OnAdoptedSandboxRemoved,
} from './adoptions';
export { FunctionPool, linkTree, poolMembers, poolReadySeconds, poolStarts, type FunctionPoolOptions, type PoolRuntime } from './pool';
export {
  DEFAULT_POOL_SIZE, MAX_POOL_SIZE, parsePoolSize, poolCap, poolEligibility, poolTarget, POOL_SIZE_ENV, RECENT_COLD_START_MS, type Eligibility,
} from './pool-policy';
