/**
 * Disk usage of a directory tree, as du(1) counts it (allocated blocks), for emptyDir sizeLimit
 * (https://kubernetes.io/docs/concepts/storage/volumes/#emptydir: kubelet evicts a pod whose
 * emptyDir on disk uses more than its sizeLimit). Symlinks are not followed and other filesystems
 * mounted below are not counted.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Bytes allocated to `dir` and everything below it on its filesystem; 0 when it does not exist. */
export async function diskUsageBytes(dir: string): Promise<number> {
  const top = await lstat(dir).catch(() => undefined);
  if (!top) return 0;
  let total = 0;
  const walk = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => undefined);
    if (!st || st.dev !== top.dev) return;
    total += st.blocks * 512;
    if (!st.isDirectory()) return;
    for (const e of await readdir(p).catch(() => [] as string[])) await walk(path.join(p, e));
  };
  await walk(dir);
  return total;
}
