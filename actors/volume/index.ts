export { findBestVolume, isVolumeBoundToClaim, volumeFitError } from './binder';
export { claimController, leaveDataReclaimer, PV_CONTROLLER_COMPONENT, volumeController, type VolumeReclaimer } from './controller';
export { persistentVolumeClaimModule, persistentVolumeModule, storageClassModule } from './kind';
