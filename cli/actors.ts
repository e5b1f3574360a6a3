/**
 * What `mk actors` asks the bus: the processes that publish actor telemetry (found by listening
 * to their once-a-second stats, or named), and each one's whole tree through its paged
 * `snapshot` subject (messages/telemetry.ts). A terminal observer; the dashboard is the live one.
 */
import { decode, request } from '../bus/core-client';
import {
  actorSubject, actorWildcard, type ActorInfo, type ActorSnapshotReply, type ActorStats, type ActorStatsBatch, type ProcessStats,
} from '../messages/telemetry';
import { retryRead } from './api-retry';
import { API_TIMEOUT_MS, type Client } from './client';

/** How long `mk actors` listens for processes when none is named: a little over one stats interval. */
export const DISCOVERY_MS = 1500;
/** The page size of snapshot requests. */
const PAGE = 5000;

/** One actor with its process and latest figures. */
export type ActorRow = ActorInfo & { process: string; stats?: ActorStats };

/** One process's tree. */
export interface ProcessTree { process: string; self: ProcessStats; actors: ActorRow[] }

/** The processes heard publishing stats within `ms`, sorted (control planes first, then nodes). */
export async function discoverProcesses(client: Client, ms = DISCOVERY_MS): Promise<string[]> {
  const found = new Set<string>();
  const sub = client.bus.nc.subscribe(actorWildcard('stats'), {
    callback: (err, m) => {
      if (err) return;
      try {
        const b = decode<ActorStatsBatch>(m.data);
        if (typeof b?.process === 'string') found.add(b.process);
      } catch {
        // Not a stats message: not a process to ask.
      }
    },
  });
  await new Promise((r) => setTimeout(r, ms));
  sub.unsubscribe();
  return [...found].sort();
}

/** One process's whole tree, page by page. Throws the bus's errors (Timeout when it does not answer). */
export async function fetchTree(client: Client, process: string): Promise<ProcessTree> {
  const actors: ActorRow[] = [];
  let self: ProcessStats | undefined;
  for (let offset = 0; ;) {
    const page = await retryRead((timeoutMs) => request<ActorSnapshotReply>(
      client.bus, actorSubject(process, 'snapshot'), { offset, limit: PAGE }, { timeoutMs },
    ), API_TIMEOUT_MS);
    self = page.self;
    for (const a of page.actors) actors.push({ ...a, process });
    offset += page.actors.length;
    if (page.actors.length === 0 || offset >= page.total) break;
  }
  return { process, self: self!, actors };
}
