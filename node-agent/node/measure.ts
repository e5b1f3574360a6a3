/**
 * Measures the machine for the node's status: CPUs, memory and what is available of it, the file
 * system of the node's data directory, PIDs (node-agent/gpu counts the GPUs). A reading that
 * fails counts as 0, which node-status.ts takes as "unknown" (no pressure, no ephemeral-storage).
 */
import * as fs from 'node:fs/promises';
import os from 'node:os';
import { log } from '../log';
import type { NodeMeasurements } from './node-status';

/** MemAvailable of /proc/meminfo (the kernel's estimate of what can be had without swapping). */
async function memoryAvailable(): Promise<number> {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(await fs.readFile('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux: os.freemem below */ }
  return os.freemem();
}

async function readNumber(file: string, pick: (text: string) => string | undefined): Promise<number> {
  try {
    const v = Number(pick(await fs.readFile(file, 'utf8')));
    return Number.isFinite(v) ? v : 0;
  } catch {
    return 0;
  }
}

/**
 * Takes the measurements. `dataDir` is the node's data directory (its file system is nodefs);
 * `gpus` is what node-agent/gpu found at start, passed in.
 */
export async function measureNode(dataDir: string, gpus: number): Promise<NodeMeasurements> {
  let fsBytes = 0;
  let fsAvailableBytes = 0;
  let fsInodes = 0;
  let fsInodesFree = 0;
  try {
    const st = await fs.statfs(dataDir);
    fsBytes = st.blocks * st.bsize;
    fsAvailableBytes = st.bavail * st.bsize;
    fsInodes = st.files;
    fsInodesFree = st.ffree;
  } catch (err) {
    log.debug({ dataDir, err: String(err) }, 'cannot read the file system of the data directory');
  }
  return {
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    memoryAvailableBytes: await memoryAvailable(),
    fsBytes, fsAvailableBytes, fsInodes, fsInodesFree,
    pidMax: await readNumber('/proc/sys/kernel/pid_max', (t) => t.trim()),
    // The fourth field of /proc/loadavg is running/total scheduling entities (processes and threads).
    pidsInUse: await readNumber('/proc/loadavg', (t) => t.split(/\s+/)[3]?.split('/')[1]),
    gpus,
  };
}
