/**
 * How the api orders its writes: one lane per object key, so writes of one object run one after
 * another in arrival order while writes of different objects overlap; at most `limit` run at once
 * (a flood waits in arrival order, it is never refused); and a gate per namespace, so the deletion
 * of a namespace and the creations in it never overlap inside this process (a creation either
 * lands before the namespace is marked, and its cascade deletes it, or reads the mark and is
 * refused). The store's compare-and-set still guards every key against other processes.
 */

/** A write waiting for, or holding, its lane. */
interface Task {
  key: string;
  fn: () => Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** Runs `fn` and turns a synchronous throw into a rejection. */
function invoke(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Per-key FIFO lanes with a bound on the writes in flight across all keys. */
export class WriteLanes {
  private readonly lanes = new Map<string, Task[]>();
  /** Heads of lanes waiting for a free slot, in arrival order. */
  private readonly waiting: Task[] = [];
  private running = 0;

  /** `limit`: how many writes may run at once (a positive integer). */
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`the write limit must be a positive integer (got ${limit})`);
  }

  /** Writes running and writes waiting (for their key's earlier writes or for a slot). */
  stats(): { running: number; queued: number } {
    let queued = 0;
    for (const l of this.lanes.values()) queued += l.length;
    return { running: this.running, queued: queued - this.running };
  }

  /**
   * Runs `fn` once every earlier write of `key` has settled and a slot is free; resolves or
   * rejects as `fn` does. A failing write does not hold up the next one of its key.
   */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const task: Task = { key, fn, resolve: resolve as (v: unknown) => void, reject };
      const lane = this.lanes.get(key);
      if (lane) { lane.push(task); return; }
      this.lanes.set(key, [task]);
      this.ready(task);
    });
  }

  private ready(task: Task): void {
    if (this.running < this.limit) this.start(task); else this.waiting.push(task);
  }

  private start(task: Task): void {
    this.running++;
    void invoke(task.fn).then(task.resolve, task.reject).finally(() => {
      this.running--;
      // Those that waited for a slot go first; then the next write of this key takes its turn.
      while (this.running < this.limit && this.waiting.length > 0) this.start(this.waiting.shift()!);
      const lane = this.lanes.get(task.key)!;
      lane.shift();
      if (lane.length > 0) this.ready(lane[0]); else this.lanes.delete(task.key);
    });
  }
}

/**
 * Shared and exclusive holds per name, first come first served: holders of a shared hold overlap,
 * an exclusive one waits for every earlier hold and holds up every later one.
 */
export class Gates {
  private readonly gates = new Map<string, { shared: number; exclusive: boolean; queue: { exclusive: boolean; go(): void }[] }>();

  /** Runs `fn` under a hold on `name`. */
  async run<T>(name: string, exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    let g = this.gates.get(name);
    if (!g) { g = { shared: 0, exclusive: false, queue: [] }; this.gates.set(name, g); }
    const gate = g;
    const free = () => !gate.exclusive && gate.queue.length === 0 && (!exclusive || gate.shared === 0);
    if (free()) {
      if (exclusive) gate.exclusive = true; else gate.shared++;
    } else {
      await new Promise<void>((go) => gate.queue.push({ exclusive, go }));
    }
    try {
      return await fn();
    } finally {
      if (exclusive) gate.exclusive = false; else gate.shared--;
      while (gate.queue.length > 0 && !gate.exclusive) {
        const next = gate.queue[0];
        if (next.exclusive && gate.shared > 0) break;
        gate.queue.shift();
        if (next.exclusive) gate.exclusive = true; else gate.shared++;
        next.go();
      }
      if (!gate.exclusive && gate.shared === 0 && gate.queue.length === 0) this.gates.delete(name);
    }
  }

  /** How many names have holders or waiters (for tests: idle gates are dropped). */
  get size(): number { return this.gates.size; }
}
