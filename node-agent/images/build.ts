/**
 * The built-in images, made from binaries on this machine on first start (there is no registry
 * to pull from): pause (compiled from pause.c) and busybox (Debian's busybox-static).
 * Built archives are cached in a work dir keyed by a hash of their inputs; importing into a
 * containerd is skipped when CRI already has every name, so a second start is fast.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { CriClient } from '../cri/client';
import { ociArch, sha256, writeOciArchive, type LayerEntry, type OciImageSpec } from './oci';
import { criSnapshotter, importImageArchive, waitForImages } from './import';

const run = promisify(execFile);

/** The sandbox (pause) image every pod's sandbox runs; containerd's `sandbox_image`. */
export const PAUSE_IMAGE = 'registry.mk.local/pause:3.9';
/** The busybox image under the name Kubernetes users write (`busybox` normalizes to it). */
export const BUSYBOX_IMAGE = 'docker.io/library/busybox:latest';
/** Bump when the way images are built changes, so cached archives are rebuilt. */
export const BUILDER_VERSION = '1';

/** A progress event: `step` is human-readable; `done` marks the image's last event. */
export interface ImageProgress { image: string; step: string; done?: boolean }
/** Receives progress events (for `mk up`'s output). */
export type ProgressFn = (e: ImageProgress) => void;

/** A built image archive, ready to import. */
export interface BuiltImage { names: string[]; tarPath: string; cached: boolean }

/**
 * Finds a file shipped beside the code: `dir` is relative to node-agent/ (`images`, `functions`);
 * looked up in the compiled tree first, then in the sources (dist/ runs without assets copied).
 */
export function assetPath(name: string, dir = 'images'): string {
  const candidates = [path.resolve(__dirname, '..', dir, name), path.resolve(__dirname, '..', '..', '..', 'node-agent', dir, name)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`${name} not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** The cached archive's file name: the kind and the key's first 16 hex digits. */
export const cacheName = (kind: string, key: string): string => `${kind}-${key.slice('sha256:'.length, 'sha256:'.length + 16)}.tar`;

/**
 * Builds the pause image archive (or reuses a cached one) in `workDir`. Throws when gcc is
 * missing or fails (the error carries gcc's output).
 */
export async function buildPauseImage(workDir: string, onProgress?: ProgressFn): Promise<BuiltImage> {
  const source = await readFile(assetPath('pause.c'));
  const gccVersion = (await run('gcc', ['--version']).catch((e: Error) => {
    throw new Error(`gcc is needed to build the pause image and could not run: ${e.message}`);
  })).stdout.split('\n')[0];
  const key = sha256([BUILDER_VERSION, ociArch(), gccVersion, source.toString('utf8')].join('\0'));
  const tarPath = path.join(workDir, cacheName('pause', key));
  if (existsSync(tarPath)) return { names: [PAUSE_IMAGE], tarPath, cached: true };
  onProgress?.({ image: PAUSE_IMAGE, step: 'compile pause (gcc -static)' });
  await mkdir(workDir, { recursive: true });
  const tmp = await mkdtemp(path.join(workDir, '.pause-'));
  try {
    const bin = path.join(tmp, 'pause');
    await run('gcc', ['-static', '-O2', '-s', '-o', bin, assetPath('pause.c')], { timeout: 120_000 }).catch((e: Error & { stderr?: string }) => {
      throw new Error(`compiling pause.c failed: ${e.stderr || e.message}`);
    });
    onProgress?.({ image: PAUSE_IMAGE, step: 'pack layer' });
    const spec: OciImageSpec = {
      names: [PAUSE_IMAGE],
      layers: [[{ type: 'file', path: 'pause', mode: 0o755, data: await readFile(bin) }]],
      config: { entrypoint: ['/pause'] },
    };
    await writeOciArchive(spec, tarPath);
    return { names: [PAUSE_IMAGE], tarPath, cached: false };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Version of the busybox binary (`1.35.0`), parsed from its banner. Throws when unparseable. */
export async function busyboxVersion(busybox = '/bin/busybox'): Promise<string> {
  // `busybox` with no applet prints its banner and usage; its exit status varies by build.
  const out = await run(busybox, [], { timeout: 10_000 }).then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? '');
  const m = /BusyBox v(\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new Error(`could not read the busybox version from "${busybox}" (is busybox-static installed?)`);
  return m[1];
}

/** The busybox image names: `latest` and the binary's own version. */
export async function busyboxNames(busybox = '/bin/busybox'): Promise<string[]> {
  return [BUSYBOX_IMAGE, `docker.io/library/busybox:${await busyboxVersion(busybox)}`];
}

/**
 * The busybox root filesystem as one layer: the binary, a symlink per applet at the path busybox
 * lists, the usual top-level dirs, minimal /etc/passwd and /etc/group, /tmp. The runtime images
 * start from it too. Throws when the binary cannot list its applets.
 */
export async function busyboxLayer(busybox = '/bin/busybox', binary?: Buffer): Promise<LayerEntry[]> {
  const data = binary ?? await readFile(busybox);
  const applets = (await run(busybox, ['--list-full'], { timeout: 10_000 })).stdout
    .split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== 'bin/busybox').sort();
  const dirs = new Set<string>(['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sbin', 'sys', 'tmp', 'usr', 'usr/bin', 'usr/sbin', 'var']);
  for (const a of applets) {
    const parts = a.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const modes: Record<string, number> = { root: 0o700, tmp: 0o1777 };
  return [
    ...[...dirs].sort().map((d): LayerEntry => ({ type: 'dir', path: d, mode: modes[d] ?? 0o755 })),
    { type: 'file', path: 'bin/busybox', mode: 0o755, data },
    { type: 'file', path: 'etc/passwd', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n') },
    { type: 'file', path: 'etc/group', data: Buffer.from('root:x:0:\nnobody:x:65534:\n') },
    ...applets.map((a): LayerEntry => ({ type: 'symlink', path: a, target: '/bin/busybox' })),
  ];
}

/**
 * Builds the busybox image archive from a static busybox (or reuses a cached one): the binary,
 * a symlink per applet at the path busybox lists, minimal /etc/passwd and /etc/group, /tmp.
 * Throws when the binary is missing or not usable.
 */
export async function buildBusyboxImage(workDir: string, onProgress?: ProgressFn, busybox = '/bin/busybox'): Promise<BuiltImage> {
  const names = await busyboxNames(busybox);
  const binary = await readFile(busybox);
  const key = sha256(Buffer.concat([Buffer.from(`${BUILDER_VERSION}\0${ociArch()}\0`), binary]));
  const tarPath = path.join(workDir, cacheName('busybox', key));
  if (existsSync(tarPath)) return { names, tarPath, cached: true };
  onProgress?.({ image: BUSYBOX_IMAGE, step: 'pack layer' });
  const entries = await busyboxLayer(busybox, binary);
  await writeOciArchive({
    names,
    layers: [entries],
    config: { cmd: ['sh'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
  }, tarPath);
  return { names, tarPath, cached: false };
}

/** Options of `ensureBuiltinImages`. */
export interface EnsureImagesOptions {
  /** containerd's API socket (ctr imports through it). */
  socketPath: string;
  /** Where built archives are cached (shared between instances is fine: writes are atomic). */
  workDir: string;
  onProgress?: ProgressFn;
  /** Snapshotter to unpack into; default: asked from CRI (must match CRI's). */
  snapshotter?: string;
}

/** What `ensureBuiltinImages` did, by image name. */
export interface EnsureImagesResult { imported: string[]; present: string[] }

/**
 * Makes sure the built-in images (pause, busybox) exist in containerd's k8s.io namespace under
 * their full names: images CRI already has are skipped; missing ones are built (or taken from
 * the cache in workDir) and imported, then awaited until CRI sees them. Throws when building
 * or importing fails, with the tool's output.
 */
export async function ensureBuiltinImages(cri: CriClient, opts: EnsureImagesOptions): Promise<EnsureImagesResult> {
  const result: EnsureImagesResult = { imported: [], present: [] };
  const builders: { names: string[]; build: () => Promise<BuiltImage> }[] = [
    { names: [PAUSE_IMAGE], build: () => buildPauseImage(opts.workDir, opts.onProgress) },
    { names: await busyboxNames(), build: () => buildBusyboxImage(opts.workDir, opts.onProgress) },
  ];
  let snapshotter = opts.snapshotter;
  for (const b of builders) {
    const image = b.names[0];
    opts.onProgress?.({ image, step: 'check' });
    const have = await Promise.all(b.names.map(async (n) => (await cri.imageStatus({ image: { image: n } })).image !== null));
    if (have.every(Boolean)) {
      result.present.push(...b.names);
      opts.onProgress?.({ image, step: 'present', done: true });
      continue;
    }
    snapshotter = await importBuilt(cri, opts, image, await b.build(), result, snapshotter);
  }
  return result;
}

/**
 * The last steps of ensuring an image: imports the built archive into containerd (unpacked with
 * `snapshotter`, asked from CRI when not known yet), waits until CRI sees every name, and records
 * them in `result`. Resolves with the snapshotter, for the next image.
 */
export async function importBuilt(
  cri: CriClient, opts: Pick<EnsureImagesOptions, 'socketPath' | 'onProgress'>, image: string, built: BuiltImage,
  result: EnsureImagesResult, snapshotter: string | undefined,
): Promise<string> {
  if (built.cached) opts.onProgress?.({ image, step: 'cached archive' });
  opts.onProgress?.({ image, step: 'import' });
  const using = snapshotter ?? await criSnapshotter(cri);
  await importImageArchive(opts.socketPath, built.tarPath, undefined, { snapshotter: using });
  await waitForImages(cri, built.names);
  result.imported.push(...built.names);
  opts.onProgress?.({ image, step: 'imported', done: true });
  return using;
}
