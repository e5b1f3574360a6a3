/**
 * A small OCI image layout writer: layers from an in-memory list of entries, config, manifest and
 * index.json, packed into one tar that `ctr images import` (and any OCI tool) reads.
 * Output is byte-for-byte deterministic: fixed mtimes (unless an entry gives its own), root ownership, entries in the order given,
 * no timestamps in the config; rebuilding the same image gives the same digests.
 * Spec: https://github.com/opencontainers/image-spec/blob/main/image-layout.md
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';

/** One entry of a layer. Paths are relative (`bin/sh`); parents must be listed before children. */
export type LayerEntry =
  | { type: 'dir'; path: string; mode?: number }
  /** `mtime` (default: a fixed date) only where a reader checks it: python's .pyc names its source's. */
  | { type: 'file'; path: string; mode?: number; data: Buffer; mtime?: Date }
  | { type: 'symlink'; path: string; target: string };

/** Process defaults of the image (the OCI config's `config` object). */
export interface ImageRunConfig {
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  workingDir?: string;
  labels?: Record<string, string>;
}

/** What to build. */
export interface OciImageSpec {
  /** Full, normalized names (`docker.io/library/busybox:latest`); each becomes one index entry. */
  names: string[];
  layers: LayerEntry[][];
  config: ImageRunConfig;
  /** OCI architecture (default: this machine's, see `ociArch`). */
  architecture?: string;
}

/** Digests of what was written. */
export interface OciImageInfo {
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
  diffIds: string[];
  /** Size of the packed archive in bytes. */
  size: number;
}

const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  index: 'application/vnd.oci.image.index.v1+json',
} as const;

/** Index annotation containerd's importer names the image by. */
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';
/** The OCI spec's name annotation; set to the full name too, for other tools. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

// A fixed, non-zero mtime: some tools treat 0 as "unset". 2000-01-01T00:00:00Z.
const FIXED_MTIME = new Date(946684800_000);

/** Maps Node's `process.arch` to the OCI/Go architecture name. Throws for an unknown one. */
export function ociArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
  const a = map[nodeArch];
  if (!a) throw new Error(`no OCI architecture known for node arch "${nodeArch}"`);
  return a;
}

/** `sha256:<hex>` of a buffer. */
export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function checkPath(p: string): void {
  if (p === '' || p.startsWith('/') || p.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw new Error(`layer entry path "${p}" must be relative, normalized and stay inside the image`);
  }
}

function headerBlocks(h: { path: string; type: 'File' | 'Directory' | 'SymbolicLink'; mode: number; size: number; linkpath?: string; mtime?: Date }): Buffer[] {
  const mtime = h.mtime ?? FIXED_MTIME;
  const fields = { ...h, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime };
  const header = new Header(fields);
  const out: Buffer[] = [];
  // Long paths or link targets do not fit ustar: a PAX extended header carries them.
  if (header.encode()) out.push(new Pax({ path: h.path, linkpath: h.linkpath, mtime }).encode());
  if (!header.block) throw new Error(`could not encode tar header for ${h.path}`);
  out.push(Buffer.from(header.block));
  return out;
}

/**
 * Builds an uncompressed tar from entries, deterministically (owner 0:0, fixed mtime, given
 * order and modes). Throws on a path that is absolute or escapes with `..`.
 */
export function buildTar(entries: LayerEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    checkPath(e.path);
    if (e.type === 'dir') {
      parts.push(...headerBlocks({ path: `${e.path}/`, type: 'Directory', mode: e.mode ?? 0o755, size: 0 }));
    } else if (e.type === 'symlink') {
      parts.push(...headerBlocks({ path: e.path, type: 'SymbolicLink', mode: 0o777, size: 0, linkpath: e.target }));
    } else {
      parts.push(...headerBlocks({ path: e.path, type: 'File', mode: e.mode ?? 0o644, size: e.data.length, mtime: e.mtime }));
      parts.push(e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(parts);
}

/** The blobs and index of an image layout, in memory: path inside the layout -> content. */
export interface OciLayout {
  files: { path: string; data: Buffer }[];
  info: Omit<OciImageInfo, 'size'>;
}

/** A packed layer: its uncompressed digest (diff_id) and its gzipped blob. */
interface PackedLayer { diffId: string; gz: Buffer }

/** Builds the files of an OCI image layout (oci-layout, index.json, blobs/sha256/...). */
export function buildOciLayout(spec: OciImageSpec): OciLayout {
  if (spec.names.length === 0) throw new Error('an image needs at least one name');
  // gzip without a file name or mtime in its header, so the digest depends on content only.
  return assembleLayout(spec, spec.layers.map((entries) => {
    const raw = buildTar(entries);
    return { diffId: sha256(raw), gz: gzipSync(raw, { level: 6 }) };
  }));
}

const gzipAsync = promisify(gzip);

/**
 * Like `buildOciLayout`, but compresses layers on libuv's thread pool: a layer of a hundred MB
 * (an interpreter) then does not stall the event loop for seconds.
 */
export async function buildOciLayoutAsync(spec: OciImageSpec): Promise<OciLayout> {
  if (spec.names.length === 0) throw new Error('an image needs at least one name');
  const packed: PackedLayer[] = [];
  for (const entries of spec.layers) {
    const raw = buildTar(entries);
    packed.push({ diffId: sha256(raw), gz: await gzipAsync(raw, { level: 6 }) });
  }
  return assembleLayout(spec, packed);
}

function assembleLayout(spec: OciImageSpec, packed: PackedLayer[]): OciLayout {
  const blobs = new Map<string, Buffer>();
  const addBlob = (data: Buffer): string => {
    const d = sha256(data);
    blobs.set(d, data);
    return d;
  };
  const layers = packed.map((l) => ({ diffId: l.diffId, digest: addBlob(l.gz), size: l.gz.length }));
  const c = spec.config;
  const config = {
    architecture: spec.architecture ?? ociArch(),
    os: 'linux',
    config: {
      ...(c.env ? { Env: c.env } : {}),
      ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
      ...(c.cmd ? { Cmd: c.cmd } : {}),
      ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
      ...(c.labels ? { Labels: c.labels } : {}),
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  };
  const configBuf = Buffer.from(JSON.stringify(config));
  const configDigest = addBlob(configBuf);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: configDigest, size: configBuf.length },
    layers: layers.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.size })),
  };
  const manifestBuf = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = addBlob(manifestBuf);
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: spec.names.map((name) => ({
      mediaType: MEDIA.manifest,
      digest: manifestDigest,
      size: manifestBuf.length,
      platform: { architecture: config.architecture, os: 'linux' },
      annotations: { [ANNOTATION_CONTAINERD_NAME]: name, [ANNOTATION_REF_NAME]: name },
    })),
  };
  const files = [
    { path: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { path: 'index.json', data: Buffer.from(JSON.stringify(index)) },
    ...[...blobs].map(([d, data]) => ({ path: `blobs/sha256/${d.slice('sha256:'.length)}`, data })),
  ];
  return {
    files,
    info: { manifestDigest, configDigest, layerDigests: layers.map((l) => l.digest), diffIds: layers.map((l) => l.diffId) },
  };
}

/** Packs an OCI layout into one tar (deterministic, like `buildTar`). */
export function packOciLayout(layout: OciLayout): Buffer {
  return buildTar([
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
    ...layout.files.map((f) => ({ type: 'file' as const, path: f.path, data: f.data })),
  ]);
}

/**
 * Builds an image and writes its OCI layout archive to `outPath` (atomically: a temp file is
 * renamed into place, so concurrent builders never see a half-written archive).
 */
export async function writeOciArchive(spec: OciImageSpec, outPath: string): Promise<OciImageInfo> {
  const layout = await buildOciLayoutAsync(spec);
  const tar = packOciLayout(layout);
  await mkdir(path.dirname(outPath), { recursive: true });
  const tmp = `${outPath}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, tar);
  await rename(tmp, outPath);
  return { ...layout.info, size: tar.length };
}
