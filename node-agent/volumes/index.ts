/** Pod volumes on the node: setup, mounts into containers, atomic updates and cleanup. */
export { DATA_DIR_NAME, payloadPathError, writeAtomic, type FileProjection, type Payload } from './atomic-writer';
export { containerMounts, type MountedVolume, type PodVolumeMap } from './container-mounts';
export { isVolumeError, VolumeError } from './errors';
export { codeInUse, CSI_RECORDS_DIR, DEFAULT_KEEP_UNUSED_MS, FunctionCodeCache, type CodeFetcher, type FunctionCodeCacheOptions } from './function-code';
export { ANY_ROOT, isWithin, resolveExisting, setUpHostPath } from './host-path';
export { podDir, podVolumesDir, volumeDir, VOLUMES_DIR, type VolumePlugin } from './layout';
export { PodVolumes, type PodVolumesOptions, type VolumeSources } from './manager';
export { kernelSupports, nfsMountArgs, setUpClaimVolume, type ClaimMountContext, type ClaimReader } from './persistent';
export { configMapPayload, DEFAULT_MODE, downwardAPIPayload, formatMap, secretPayload } from './payloads';
export { openBeneath, SUBPATHS_DIR, subPathBinder, type BindMounter, type SubPathBinder } from './subpath';
export { systemMounter, type Mounter } from './tmpfs';
export * from './types';
export { diskUsageBytes } from './usage';
