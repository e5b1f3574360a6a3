/** Errors of pod volume setup. */

/**
 * A volume of the pod cannot be set up or mounted as its spec asks (a ConfigMap that is not
 * there, a hostPath outside the node's allowed roots, a subPath that leaves its volume). The
 * pod's own error: kubelet's FailedMount event, and the container waits in ContainerCreating
 * until a later sync succeeds.
 */
export class VolumeError extends Error {
  /** The volume's name in the pod spec. */
  readonly volume: string;
  constructor(volume: string, message: string) {
    super(message);
    this.name = 'VolumeError';
    this.volume = volume;
  }
}

/** Predicate for VolumeError. */
export const isVolumeError = (e: unknown): e is VolumeError => e instanceof VolumeError;
