/**
 * Usage as metrics.k8s.io quantities, in the units `kubectl top` prints: CPU in millicores rounded
 * up (kubectl prints MilliValue, which rounds up: a container that used anything shows at least
 * `1m`), memory in whole Ki (metrics-server's unit). The raw numbers travel beside them.
 */

/** Nanocores as millicores: `0m`, `1m`, `250m`, `1500m`. */
export function cpuQuantity(nanoCores: number): string {
  return `${Math.ceil(Math.max(0, nanoCores) / 1e6 - 1e-9)}m`;
}

/** Bytes as Ki: `0Ki`, `12288Ki`. */
export function memoryQuantity(bytes: number): string {
  return `${Math.floor(Math.max(0, bytes) / 1024)}Ki`;
}

/** A window in seconds as a duration the way the API shows it: `5s`, `4.998s`. */
export function windowDuration(seconds: number): string {
  return `${Math.round(Math.max(0, seconds) * 1000) / 1000}s`;
}
