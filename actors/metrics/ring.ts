/**
 * A fixed-size history of usage samples: three numbers a sample (time, nanocores, bytes) in one
 * Float64Array, so memory is bounded whatever the report rate: RING_SLOTS * 24 bytes = 3,840 bytes
 * a ring (plus the array's header, about 100 bytes). Samples closer than MIN_SPACING_MS to the last
 * kept one are dropped, so RING_SLOTS slots always span HISTORY_MS even for nodes that report fast.
 */

/** How much history the metrics actor keeps (and the most `historySeconds` gives). */
export const HISTORY_MS = 10 * 60_000;
/** Slots of a ring. */
export const RING_SLOTS = 160;
/** The closest two kept samples may be: HISTORY_MS / RING_SLOTS (3.75 s). */
export const MIN_SPACING_MS = HISTORY_MS / RING_SLOTS;

/** One sample: epoch ms, nanocores, bytes. */
export interface RingSample { t: number; cpuNanoCores: number; memoryBytes: number }

/** The ring. Not safe against time going backwards: such a sample is dropped. */
export class SampleRing {
  private readonly data = new Float64Array(RING_SLOTS * 3);
  private next = 0;
  private count = 0;

  /** Adds a sample unless it is too close to (or older than) the last kept one; true when kept. */
  push(s: RingSample): boolean {
    const last = this.last();
    if (last && s.t - last.t < MIN_SPACING_MS) return false;
    const i = this.next * 3;
    this.data[i] = s.t;
    this.data[i + 1] = s.cpuNanoCores;
    this.data[i + 2] = s.memoryBytes;
    this.next = (this.next + 1) % RING_SLOTS;
    this.count = Math.min(this.count + 1, RING_SLOTS);
    return true;
  }

  /** The newest sample kept, if any. */
  last(): RingSample | undefined {
    return this.count === 0 ? undefined : this.at(this.count - 1);
  }

  /** Samples at or after `fromMs`, oldest first. */
  since(fromMs: number): RingSample[] {
    const out: RingSample[] = [];
    for (let k = 0; k < this.count; k++) {
      const s = this.at(k);
      if (s.t >= fromMs) out.push(s);
    }
    return out;
  }

  /** How many samples it holds (at most RING_SLOTS). */
  get size(): number {
    return this.count;
  }

  /** Bytes its samples take (the bound a ring never passes). */
  get bytes(): number {
    return this.data.byteLength;
  }

  /** The k-th oldest sample held. */
  private at(k: number): RingSample {
    const i = ((this.next - this.count + k + RING_SLOTS) % RING_SLOTS) * 3;
    return { t: this.data[i], cpuNanoCores: this.data[i + 1], memoryBytes: this.data[i + 2] };
  }
}
