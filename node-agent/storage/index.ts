export {
  ensureLocalVolumeDir, localVolumesClient, startLocalPathStorage, syncLocalVolumes, unsafeDirectory,
  type LocalPathStorage, type LocalVolumesClient, type SyncResult,
} from './local-path';
