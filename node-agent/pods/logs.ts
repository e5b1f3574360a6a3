/**
 * Container logs from the CRI log files the runtime writes
 * (https://github.com/kubernetes/design-proposals-archive/blob/main/node/kubelet-cri-logging.md):
 * one record per line, `<RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>`, where P marks a
 * fragment of a long line that continues in the next record of the same stream.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { NotFoundError } from '../../messages/errors';
import type { Pod } from '../../messages/pod';
import type { ContainerStatus } from '../cri/types';
import { containerInstances } from './observe';
import type { PodRuntime } from './types';

/** One record of a CRI log file. */
export interface CriLogRecord {
  timestamp: string;
  stream: 'stdout' | 'stderr';
  /** P: the line continues in the next record of this stream. */
  partial: boolean;
  content: string;
}

/** Parses one record (without its newline); null when it is not in CRI format. */
export function parseCriLogLine(line: string): CriLogRecord | null {
  const m = /^(\S+) (stdout|stderr) ([^ ]+)(?: (.*))?$/s.exec(line);
  if (!m) return null;
  const tags = m[3].split(':');
  return { timestamp: m[1], stream: m[2] as 'stdout' | 'stderr', partial: tags.includes('P'), content: m[4] ?? '' };
}

/** A whole log line, partial fragments joined; the timestamp is its first fragment's. */
export interface LogLine { timestamp: string; stream: 'stdout' | 'stderr'; content: string }

/** Joins P fragments per stream into whole lines. Keeps unfinished fragments between feeds. */
export class LogLineAssembler {
  private readonly pending = new Map<string, { timestamp: string; parts: string[] }>();

  /** Feeds records; returns the lines they complete. Malformed records are skipped. */
  push(text: string): LogLine[] {
    const out: LogLine[] = [];
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      const r = parseCriLogLine(raw);
      if (!r) continue;
      const p = this.pending.get(r.stream) ?? { timestamp: r.timestamp, parts: [] };
      p.parts.push(r.content);
      if (r.partial) { this.pending.set(r.stream, p); continue; }
      this.pending.delete(r.stream);
      out.push({ timestamp: p.timestamp, stream: r.stream, content: p.parts.join('') });
    }
    return out;
  }

  /** Unfinished fragments (a writer that stopped mid-line), emptied. */
  flush(): string {
    const rest = [...this.pending.values()].map((p) => p.parts.join('')).join('');
    this.pending.clear();
    return rest;
  }
}

/** Formats lines as `kubectl logs` prints them (optionally with the timestamp first). */
export function formatLogLines(lines: LogLine[], timestamps = false): string {
  return lines.map((l) => (timestamps ? `${l.timestamp} ${l.content}\n` : `${l.content}\n`)).join('');
}

/** The last `n` lines; undefined or negative = all (kubectl's `--tail=-1`). */
function tail<T>(lines: T[], n?: number): T[] {
  return n === undefined || n < 0 ? lines : n === 0 ? [] : lines.slice(-n);
}

/** Options of {@link readContainerLogs}. */
export interface ReadLogsOptions { logPath: string; tailLines?: number; timestamps?: boolean }

/** The log as kubectl shows it. A missing file (no output yet, or removed) reads as empty. */
export async function readContainerLogs(o: ReadLogsOptions): Promise<Buffer> {
  let text: string;
  try {
    text = await readFile(o.logPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
  const asm = new LogLineAssembler();
  const lines = asm.push(text);
  return Buffer.from(formatLogLines(tail(lines, o.tailLines), o.timestamps) + asm.flush());
}

/** Options of {@link followContainerLogs}. */
export interface FollowLogsOptions {
  logPath: string;
  onData(chunk: Buffer): void | Promise<void>;
  signal: AbortSignal;
  /** Whether the container still runs; when it stops, the rest is drained and follow ends. */
  isRunning(): Promise<boolean>;
  tailLines?: number;
  timestamps?: boolean;
  /** How often to look for new records (default 200 ms). */
  pollIntervalMs?: number;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  if (signal.aborted) { resolve(); return; }
  const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = (): void => { clearTimeout(t); resolve(); };
  signal.addEventListener('abort', onAbort, { once: true });
});

/**
 * `kubectl logs -f`: writes what is there (tail applied), then new lines as they are written,
 * until `signal` aborts or the container stops (then the rest is drained). Polls rather than
 * watches, so a rotated, truncated, missing or re-created file is simply read again from its start.
 */
export async function followContainerLogs(o: FollowLogsOptions): Promise<void> {
  const interval = o.pollIntervalMs ?? 200;
  const asm = new LogLineAssembler();
  let offset = 0;
  let ino: number | undefined;
  let first = true;
  // Reads complete records appended since `offset`; returns whether anything was read.
  const readNew = async (): Promise<boolean> => {
    const st = await stat(o.logPath).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return undefined; throw e; });
    if (!st) { ino = undefined; offset = 0; return false; }
    if (st.ino !== ino || st.size < offset) { ino = st.ino; offset = 0; }
    if (st.size <= offset) return false;
    const fh = await open(o.logPath, 'r');
    let buf: Buffer;
    try {
      buf = Buffer.alloc(st.size - offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      buf = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
    const end = buf.lastIndexOf(0x0a);
    if (end < 0) return false;
    offset += end + 1;
    let lines = asm.push(buf.subarray(0, end + 1).toString('utf8'));
    if (first) lines = tail(lines, o.tailLines);
    first = false;
    if (lines.length > 0) await o.onData(Buffer.from(formatLogLines(lines, o.timestamps)));
    return true;
  };
  await readNew();
  first = false;
  while (!o.signal.aborted) {
    await sleep(interval, o.signal);
    if (o.signal.aborted) break;
    if (await readNew()) continue;
    if (!(await o.isRunning())) {
      // The runtime may flush the last records just after the exit is reported.
      await sleep(interval, o.signal);
      await readNew();
      break;
    }
  }
  const rest = asm.flush();
  if (rest !== '' && !o.signal.aborted) await o.onData(Buffer.from(rest));
}

/** Whether a container that exited will be started again (then its exit is the lastState). */
function willRestart(pod: Pod, name: string, s: ContainerStatus): boolean {
  const init = (pod.spec.initContainers ?? []).some((c) => c.name === name);
  const policy = pod.spec.restartPolicy ?? 'Always';
  const effective = init ? (policy === 'Never' ? 'Never' : 'OnFailure') : policy;
  return s.state === 'CONTAINER_EXITED' && (effective === 'Always' || (effective === 'OnFailure' && s.exitCode !== 0));
}

/**
 * The log file of `container` (default: the pod's first container) the way kubelet picks it:
 * the current instance, or with `previous` the last terminated one (`kubectl logs --previous`).
 * @throws NotFoundError with kubectl's messages when there is no such container or instance.
 */
export async function resolveLogPath(cri: PodRuntime, pod: Pod, container: string | undefined, previous: boolean): Promise<string> {
  const podName = pod.metadata.name;
  const name = container ?? pod.spec.containers[0]?.name ?? '';
  if (![...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c) => c.name === name)) {
    throw new NotFoundError(`container ${name} is not valid for pod ${podName}`);
  }
  const list = await containerInstances(cri, pod.metadata.uid ?? '', name);
  const exited = list.filter((s) => s.state === 'CONTAINER_EXITED');
  if (previous) {
    // kubelet reads lastState: the newest exit while a restart is pending, else the one before.
    const newest = list[0];
    const last = newest && willRestart(pod, name, newest) ? newest : exited.find((s) => s !== newest);
    if (!last) throw new NotFoundError(`previous terminated container "${name}" in pod "${podName}" not found`);
    return last.logPath;
  }
  if (list.length === 0) throw new NotFoundError(`container "${name}" in pod "${podName}" is waiting to start: ContainerCreating`);
  return list[0].logPath;
}
