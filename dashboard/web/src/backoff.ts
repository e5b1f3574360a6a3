/**
 * Reconnect delays for the live feed: 250 ms doubling to 10 s, with 20 % jitter so that many
 * pages dropped by one control plane do not all come back in the same instant. Pure.
 */

/** The delay before reconnect attempt `attempt` (0 for the first), `random` in [0, 1). */
export function reconnectDelay(attempt: number, random: number = Math.random()): number {
  const base = Math.min(10_000, 250 * 2 ** Math.min(attempt, 16));
  return Math.round(base * (0.8 + 0.4 * random));
}
