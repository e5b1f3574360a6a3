/**
 * The seeded random source of the chaos harness. Everything random in a chaos round (which pods,
 * when to delete them, when to kill which process) is drawn from one of these, so a seed names a
 * round: the same seed gives the same plan. mulberry32: 32 bits of state, fast, good enough to
 * spread choices; not for anything cryptographic.
 */

/** A deterministic random source. */
export interface Rng {
  /** The seed it was made from. */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (both inclusive). Throws a RangeError when max < min. */
  int(min: number, max: number): number;
  /** A float in [min, max). */
  between(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty list. Throws a RangeError on an empty one. */
  pick<T>(xs: readonly T[]): T;
  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(xs: readonly T[]): T[];
  /** A new source whose sequence depends on this seed and `label`, not on how much of this one was used. */
  fork(label: string): Rng;
}

/** Normalizes any finite number to an unsigned 32-bit seed. Throws a RangeError on NaN or infinity. */
export function toSeed(n: number): number {
  if (!Number.isFinite(n)) throw new RangeError(`a seed must be a finite number (got ${n})`);
  return Math.trunc(n) >>> 0;
}

/** The seed of round `round` of a run started with `seed`: consecutive, so a failed round is rerun by its own seed. */
export function roundSeed(seed: number, round: number): number {
  return (toSeed(seed) + round) >>> 0;
}

/** FNV-1a of a string, for fork labels. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A mulberry32 source from `seed` (normalized with toSeed). */
export function createRng(seed: number): Rng {
  const s0 = toSeed(seed);
  let state = s0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    seed: s0,
    next,
    int(min, max) {
      if (max < min) throw new RangeError(`int(${min}, ${max}): max is below min`);
      return min + Math.floor(next() * (max - min + 1));
    },
    between: (min, max) => min + next() * (max - min),
    chance: (p) => next() < p,
    pick(xs) {
      if (xs.length === 0) throw new RangeError('pick from an empty list');
      return xs[Math.floor(next() * xs.length)];
    },
    shuffle(xs) {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
    fork: (label) => createRng((s0 ^ hashString(label)) >>> 0),
  };
  return rng;
}
