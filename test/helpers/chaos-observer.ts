/**
 * Watches a node's containerd through CRI for the length of a chaos round and remembers every mk
 * sandbox and container it ever saw (those labelled with a pod uid), with the states it saw them
 * in. Garbage collection removes old containers, so a container that ran twice for one attempt
 * can only be caught by looking all along, not by one listing at the end.
 *
 * containerd may be killed during the round: a failed listing is counted as downtime and the
 * client is reconnected on the next sample (a fresh channel, so grpc's reconnect backoff never
 * delays the observer once containerd answers again).
 */
import { UnavailableError } from '../../messages';
import { CriClient } from '../../node-agent/cri';
import type { Container, ContainerState, PodSandbox, PodSandboxState } from '../../node-agent/cri/types';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../../node-agent/pods';

/** How a container that was seen exited ended (from ContainerStatus). */
export interface SeenExit {
  exitCode: number;
  reason: string;
  /** Unix ms; 0 when it never started. */
  startedAtMs: number;
  finishedAtMs: number;
}

/** One container instance (one CRI container id) seen during the round. */
export interface SeenContainer {
  id: string;
  podUid: string;
  pod: string;
  name: string;
  attempt: number;
  sandboxId: string;
  /** Every state it was listed in. */
  states: ContainerState[];
  firstSeenMs: number;
  lastSeenMs: number;
  /** Set once it was seen CONTAINER_EXITED and its status could be read. */
  exit?: SeenExit;
}

/** One sandbox seen during the round. */
export interface SeenSandbox {
  id: string;
  podUid: string;
  pod: string;
  attempt: number;
  states: PodSandboxState[];
  firstSeenMs: number;
  lastSeenMs: number;
}

/** One complete listing of mk's sandboxes and containers. */
export interface CriListing {
  atMs: number;
  sandboxes: PodSandbox[];
  containers: Container[];
}

/** A span during which containerd did not answer the observer. */
export interface CriOutage {
  fromMs: number;
  toMs?: number;
  error: string;
}

const isMine = (x: { labels?: Record<string, string> | null }): boolean => !!x.labels?.[LABEL_POD_UID];
const podOf = (labels: Record<string, string>): string => `${labels[LABEL_POD_NAMESPACE] ?? '?'}/${labels[LABEL_POD_NAME] ?? '?'}`;

/** See the module comment. */
export class CriObserver {
  private client?: CriClient;
  private readonly seenContainers = new Map<string, SeenContainer>();
  private readonly seenSandboxes = new Map<string, SeenSandbox>();
  private readonly outageLog: CriOutage[] = [];
  private last?: CriListing;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  private constructor(private readonly socketPath: string, private readonly everyMs: number) {}

  /** Starts sampling `socketPath` every `everyMs` (default 1 s, like the kubelet's relist). */
  static start(socketPath: string, opts: { everyMs?: number } = {}): CriObserver {
    const o = new CriObserver(socketPath, opts.everyMs ?? 1_000);
    o.loop = o.run();
    return o;
  }

  /** Every container instance seen so far. */
  containers(): SeenContainer[] {
    return [...this.seenContainers.values()];
  }

  /** Every sandbox seen so far. */
  sandboxes(): SeenSandbox[] {
    return [...this.seenSandboxes.values()];
  }

  /** When containerd did not answer (the last one open while it still does not). */
  outages(): CriOutage[] {
    return this.outageLog.map((o) => ({ ...o }));
  }

  /** The newest complete listing, if any sample succeeded. */
  lastListing(): CriListing | undefined {
    return this.last;
  }

  /**
   * Takes a sample now and returns it. Throws UnavailableError when containerd does not answer;
   * the failure is recorded as an outage like any other sample's.
   */
  async listNow(): Promise<CriListing> {
    const listing = await this.sample();
    if (!listing) throw this.outageError();
    return listing;
  }

  /** Stops sampling and closes the client. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.client?.close();
    this.client = undefined;
  }

  private outageError(): UnavailableError {
    const open = this.outageLog.at(-1);
    return new UnavailableError(`containerd at ${this.socketPath} does not answer: ${open?.error ?? 'unknown'}`);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.sample();
      // A periodic sampler's pace, not a wait for a condition: stop() cuts it short.
      await new Promise<void>((r) => {
        const t = setTimeout(r, this.everyMs);
        this.wake = () => { clearTimeout(t); r(); };
      });
    }
  }

  private async connected(): Promise<CriClient> {
    this.client ??= await CriClient.connect(this.socketPath, { timeoutMs: 1_000, deadlines: { ListPodSandbox: 5_000, ListContainers: 5_000 } });
    return this.client;
  }

  /** One listing; undefined (and an outage opened) when containerd does not answer. */
  private async sample(): Promise<CriListing | undefined> {
    let listing: CriListing;
    try {
      const cri = await this.connected();
      const [sb, ct] = await Promise.all([cri.listPodSandbox({}), cri.listContainers({})]);
      listing = { atMs: Date.now(), sandboxes: sb.items.filter(isMine), containers: ct.containers.filter(isMine) };
      await this.record(cri, listing);
    } catch (e) {
      this.client?.close();
      this.client = undefined;
      const open = this.outageLog.at(-1);
      if (!open || open.toMs !== undefined) this.outageLog.push({ fromMs: Date.now(), error: (e as Error).message.split('\n')[0] });
      return undefined;
    }
    const open = this.outageLog.at(-1);
    if (open && open.toMs === undefined) open.toMs = listing.atMs;
    this.last = listing;
    return listing;
  }

  private async record(cri: CriClient, l: CriListing): Promise<void> {
    for (const s of l.sandboxes) {
      const seen = this.seenSandboxes.get(s.id) ?? {
        id: s.id, podUid: s.labels[LABEL_POD_UID], pod: podOf(s.labels), attempt: s.metadata?.attempt ?? 0,
        states: [], firstSeenMs: l.atMs, lastSeenMs: l.atMs,
      };
      if (!seen.states.includes(s.state)) seen.states.push(s.state);
      seen.lastSeenMs = l.atMs;
      this.seenSandboxes.set(s.id, seen);
    }
    for (const c of l.containers) {
      const seen = this.seenContainers.get(c.id) ?? {
        id: c.id, podUid: c.labels[LABEL_POD_UID], pod: podOf(c.labels), name: c.labels[LABEL_CONTAINER_NAME] ?? c.metadata?.name ?? '?',
        attempt: c.metadata?.attempt ?? 0, sandboxId: c.podSandboxId, states: [], firstSeenMs: l.atMs, lastSeenMs: l.atMs,
      };
      if (!seen.states.includes(c.state)) seen.states.push(c.state);
      seen.lastSeenMs = l.atMs;
      this.seenContainers.set(c.id, seen);
      if (c.state === 'CONTAINER_EXITED' && !seen.exit) {
        // Read once: an exited container's status no longer changes.
        const st = (await cri.containerStatus({ containerId: c.id }).catch(() => undefined))?.status;
        if (st) seen.exit = { exitCode: st.exitCode, reason: st.reason, startedAtMs: Math.floor(st.startedAt / 1e6), finishedAtMs: Math.floor(st.finishedAt / 1e6) };
      }
    }
  }
}
