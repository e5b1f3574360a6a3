/**
 * Bringing raw scores to 0..100 the way kube-scheduler's plugins do
 * (pkg/scheduler/framework/plugins/helper/normalize_score.go and the InterPodAffinity score).
 */
import { MAX_NODE_SCORE } from './types';

/**
 * Scales scores so the highest becomes 100 (`reverse`: so the highest becomes 0 and a zero 100).
 * All zero: unchanged, or all 100 when reversed.
 */
export function defaultNormalize(scores: number[], reverse: boolean): number[] {
  const max = scores.reduce((a, b) => Math.max(a, b), 0);
  if (max === 0) return scores.map(() => (reverse ? MAX_NODE_SCORE : 0));
  return scores.map((s) => {
    const v = (s * MAX_NODE_SCORE) / max;
    return reverse ? MAX_NODE_SCORE - v : v;
  });
}

/** Scales scores from their minimum (0) to their maximum (100); all equal: all 0. */
export function minMaxNormalize(scores: number[]): number[] {
  if (scores.length === 0) return [];
  const min = Math.min(...scores);
  const max = Math.max(...scores);
  if (max === min) return scores.map(() => 0);
  return scores.map((s) => ((s - min) * MAX_NODE_SCORE) / (max - min));
}
