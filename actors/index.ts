/** The control plane: api, scheduler and one supervisor per kind. */
export { runControlPlane, type ControlPlane, type ControlPlaneOptions } from './bootstrap';
export { schedule, podRequests, type Decision } from './scheduler/schedule';
export { spawnKindSupervisor, type KindController } from './kind-supervisor';
export { DEFAULT_SETTINGS, parseDuration, parseSeconds, resolveSettings, SETTINGS_ENV, type ControlPlaneSettings } from './settings';
