/** The control plane: api, scheduler and one supervisor per kind. */
export { runControlPlane, type ControlPlane, type ControlPlaneOptions } from './bootstrap';
export { schedule, SCHEDULING_POLICIES, type Decision, type SchedulingPolicy } from './scheduler/schedule';
export type { SchedulerConfig } from './scheduler/scheduler';
export { schedulerConfig, type SchedulerSettings } from './scheduler/config';
export { spawnKindSupervisor, type KindController } from './kind-supervisor';
export {
  DEFAULT_SETTINGS, parseDuration, parseSeconds, parseSettingsFlags, resolveSettings, SETTINGS_ENV, SETTINGS_FLAG,
  type ControlPlaneSettings, type SettingsText,
} from './settings';
