/**
 * Importing image archives (OCI layouts or `docker save` archives) into containerd's k8s.io
 * namespace, unpacked into the snapshotter CRI uses (CRI only snapshots, it never unpacks).
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { list } from 'tar';
import { TimeoutError, ValidationError } from '../../messages/errors';
import type { CriClient } from '../cri/client';

const run = promisify(execFile);

/** The containerd namespace CRI keeps its images and containers in. */
export const CRI_NAMESPACE = 'k8s.io';

/** Progress of one import: `image` is the archive until names are known. */
export type ImportProgressFn = (e: { image: string; step: string; done?: boolean }) => void;

/** Options of `importImageArchive`. */
export interface ImportOptions {
  /** Snapshotter to unpack into (must be CRI's); default `overlayfs`, ctr's own default. */
  snapshotter?: string;
  /** containerd namespace (default k8s.io). */
  namespace?: string;
  /** Deadline of the import (default 5 min). */
  timeoutMs?: number;
}

/** What kind of archive a tar is. */
export type ArchiveFormat = 'oci-layout' | 'docker-archive';

/**
 * Reads an archive's entry list and tells its format: an OCI image layout (oci-layout and
 * index.json at the top) or a `docker save` archive (manifest.json). Throws ValidationError when
 * it is neither, is not a tar, or has an entry that escapes (absolute path or `..`).
 */
export async function inspectImageArchive(tarPath: string): Promise<ArchiveFormat> {
  await stat(tarPath).catch(() => {
    throw new ValidationError(`image archive ${tarPath} does not exist or cannot be read`);
  });
  const paths: string[] = [];
  const warnings: string[] = [];
  await list({
    file: tarPath,
    onReadEntry: (e) => { paths.push(e.path); },
    onwarn: (_code: string, message: string) => { warnings.push(message); },
  });
  if (paths.length === 0) {
    throw new ValidationError(`${tarPath} is not a tar archive (${warnings[0] ?? 'no entries'}); expected an OCI image layout or a docker save archive`);
  }
  const bad = paths.find((p) => p.startsWith('/') || p.split('/').includes('..'));
  if (bad) throw new ValidationError(`image archive ${tarPath} has an entry that escapes the archive: ${bad}`);
  const top = new Set(paths.map((p) => p.replace(/^\.\//, '')));
  if (top.has('oci-layout') && top.has('index.json')) return 'oci-layout';
  if (top.has('manifest.json')) return 'docker-archive';
  throw new ValidationError(`${tarPath} is neither an OCI image layout (needs oci-layout and index.json) nor a docker save archive (needs manifest.json)`);
}

/**
 * Imports an image archive into containerd at `socketPath` with `ctr images import`, unpacking
 * into the given snapshotter; returns the image names created. Throws ValidationError for an
 * archive of the wrong shape, Error with ctr's output when the import fails.
 */
export async function importImageArchive(
  socketPath: string,
  tarPath: string,
  onProgress?: ImportProgressFn,
  opts: ImportOptions = {},
): Promise<string[]> {
  onProgress?.({ image: tarPath, step: 'validate' });
  const format = await inspectImageArchive(tarPath);
  onProgress?.({ image: tarPath, step: `import ${format}` });
  const args = [
    '-a', socketPath, '-n', opts.namespace ?? CRI_NAMESPACE,
    'images', 'import', '--all-platforms', '--snapshotter', opts.snapshotter ?? 'overlayfs',
    tarPath,
  ];
  let out: string;
  try {
    out = (await run('ctr', args, { timeout: opts.timeoutMs ?? 300_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`ctr images import of ${tarPath} failed: ${(err.stderr || err.stdout || err.message).trim()}`, { cause: e });
  }
  // ctr prints "unpacking <name> (sha256:...)...done" per image it imported.
  const names = [...out.matchAll(/unpacking (\S+) \(sha256:[0-9a-f]+\)/g)].map((m) => m[1]);
  for (const n of names) onProgress?.({ image: n, step: 'imported', done: true });
  return names;
}

/**
 * The snapshotter CRI unpacks into, read from CRI's verbose status (`config.containerd
 * .snapshotter`); 'overlayfs' (containerd's default) when the runtime does not say.
 */
export async function criSnapshotter(cri: CriClient): Promise<string> {
  const res = await cri.status({ verbose: true });
  try {
    const cfg = JSON.parse(res.info.config ?? '{}') as { containerd?: { snapshotter?: string } };
    return cfg.containerd?.snapshotter || 'overlayfs';
  } catch {
    return 'overlayfs';
  }
}

/**
 * Polls CRI ImageStatus until every name is visible (CRI learns of imported images from
 * containerd events, shortly after the import). Throws TimeoutError naming the missing ones.
 */
export async function waitForImages(cri: CriClient, names: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing = names;
  for (;;) {
    const found = await Promise.all(missing.map(async (n) => (await cri.imageStatus({ image: { image: n } })).image !== null));
    missing = missing.filter((_n, i) => !found[i]);
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new TimeoutError(`CRI does not see imported images after ${timeoutMs} ms: ${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
