/** The types `mk rollout`'s modules share (cli/rollout.ts, cli/rollout-history.ts). */

/**
 * A deployment as a command line names it (`deploy/web`, `deployment web`); `plural` is
 * `daemonsets` or `statefulsets` for the commands that also take those (rolloutTarget).
 */
export interface DeploymentTarget { name: string; namespace: string; plural?: 'deployments' | 'daemonsets' | 'statefulsets' }

/** Where the commands write. */
export interface RolloutIo { out(text: string): void }
