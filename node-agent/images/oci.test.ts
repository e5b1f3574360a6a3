import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, buildOciLayout, buildTar, ociArch, packOciLayout, sha256, writeOciArchive, type OciImageSpec } from './oci';

/** Reads a tar from memory into a list of entries with their contents. */
function readTar(buf: Buffer): Promise<{ path: string; type: string; mode: number; uid: number; gid: number; mtime: number; linkpath?: string; data: Buffer }[]> {
  return new Promise((resolve, reject) => {
    const out: { path: string; type: string; mode: number; uid: number; gid: number; mtime: number; linkpath?: string; data: Buffer }[] = [];
    const p = new Parser({ strict: true });
    p.on('entry', (e: ReadEntry) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () => out.push({
        path: e.path, type: e.type, mode: e.mode ?? -1, uid: e.uid ?? -1, gid: e.gid ?? -1,
        mtime: e.mtime?.getTime() ?? -1, linkpath: e.linkpath, data: Buffer.concat(chunks),
      }));
    });
    p.on('end', () => resolve(out));
    p.on('error', reject);
    p.end(buf);
  });
}

const spec = (): OciImageSpec => ({
  names: ['docker.io/library/demo:latest', 'docker.io/library/demo:1.0'],
  layers: [[
    { type: 'dir', path: 'bin' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: 'bin/tool', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
    { type: 'symlink', path: 'bin/alias', target: '/bin/tool' },
    { type: 'file', path: `deep/${'x'.repeat(120)}/file`, data: Buffer.from('long path') },
  ]],
  config: { cmd: ['sh'], env: ['PATH=/bin'], workingDir: '/' },
  architecture: 'amd64',
});

describe('buildTar', () => {
  it('is deterministic and writes root-owned entries with fixed mtimes and exact modes', async () => {
    const s = spec();
    const a = buildTar(s.layers[0]);
    expect(buildTar(spec().layers[0]).equals(a)).toBe(true);
    const entries = await readTar(a);
    expect(entries.map((e) => e.path)).toEqual(['bin/', 'tmp/', 'bin/tool', 'bin/alias', `deep/${'x'.repeat(120)}/file`]);
    for (const e of entries) {
      expect(e.uid).toBe(0);
      expect(e.gid).toBe(0);
      expect(e.mtime).toBe(946684800_000);
    }
    expect(entries[1].mode).toBe(0o1777);
    expect(entries[2].mode).toBe(0o755);
    expect(entries[2].data.toString()).toBe('#!/bin/sh\necho hi\n');
    expect(entries[3]).toMatchObject({ type: 'SymbolicLink', linkpath: '/bin/tool' });
    expect(entries[4].data.toString()).toBe('long path');
  });

  it('refuses paths that are absolute or escape', () => {
    expect(() => buildTar([{ type: 'dir', path: '/etc' }])).toThrow(/relative/);
    expect(() => buildTar([{ type: 'file', path: 'a/../../x', data: Buffer.alloc(0) }])).toThrow(/inside the image/);
  });
});

describe('buildOciLayout', () => {
  it('gives consistent digests: blobs named by their sha256, diff_ids of the uncompressed layers', () => {
    const { files, info } = buildOciLayout(spec());
    const byPath = new Map(files.map((f) => [f.path, f.data]));
    const blob = (d: string): Buffer => {
      const b = byPath.get(`blobs/sha256/${d.slice(7)}`);
      if (!b) throw new Error(`missing blob ${d}`);
      return b;
    };
    for (const f of files.filter((x) => x.path.startsWith('blobs/'))) expect(sha256(f.data)).toBe(`sha256:${path.basename(f.path)}`);

    const manifest = JSON.parse(blob(info.manifestDigest).toString());
    expect(manifest.config.digest).toBe(info.configDigest);
    expect(manifest.config.size).toBe(blob(info.configDigest).length);
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(info.layerDigests);
    const layer = blob(info.layerDigests[0]);
    expect(manifest.layers[0].size).toBe(layer.length);
    expect(sha256(gunzipSync(layer))).toBe(info.diffIds[0]);

    const config = JSON.parse(blob(info.configDigest).toString());
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: info.diffIds } });
    expect(config.config).toEqual({ Cmd: ['sh'], Env: ['PATH=/bin'], WorkingDir: '/' });
    expect(JSON.parse(byPath.get('oci-layout')?.toString() ?? '')).toEqual({ imageLayoutVersion: '1.0.0' });
  });

  it('names every image in index.json with both annotations, all pointing at one manifest', () => {
    const { files, info } = buildOciLayout(spec());
    const index = JSON.parse(files.find((f) => f.path === 'index.json')?.data.toString() ?? '');
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests).toHaveLength(2);
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations)).toEqual([
      { [ANNOTATION_CONTAINERD_NAME]: 'docker.io/library/demo:latest', [ANNOTATION_REF_NAME]: 'docker.io/library/demo:latest' },
      { [ANNOTATION_CONTAINERD_NAME]: 'docker.io/library/demo:1.0', [ANNOTATION_REF_NAME]: 'docker.io/library/demo:1.0' },
    ]);
    for (const m of index.manifests) {
      expect(m.digest).toBe(info.manifestDigest);
      expect(m.platform).toEqual({ architecture: 'amd64', os: 'linux' });
    }
  });

  it('rebuilds to the same archive bytes, and a changed input changes the digests', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mk-oci-'));
    try {
      const a = await writeOciArchive(spec(), path.join(dir, 'a.tar'));
      const b = await writeOciArchive(spec(), path.join(dir, 'b.tar'));
      expect(b).toEqual(a);
      expect((await readFile(path.join(dir, 'a.tar'))).equals(await readFile(path.join(dir, 'b.tar')))).toBe(true);
      const changed = spec();
      changed.config.cmd = ['true'];
      const c = buildOciLayout(changed).info;
      expect(c.configDigest).not.toBe(a.configDigest);
      expect(c.layerDigests).toEqual(a.layerDigests);
      const entries = await readTar(packOciLayout(buildOciLayout(spec())));
      expect(entries.map((e) => e.path)).toEqual(expect.arrayContaining(['oci-layout', 'index.json', `blobs/sha256/${a.manifestDigest.slice(7)}`]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an image without names', () => {
    expect(() => buildOciLayout({ ...spec(), names: [] })).toThrow(/name/);
  });
});

describe('ociArch', () => {
  it('maps node arch names to OCI ones', () => {
    expect(ociArch('x64')).toBe('amd64');
    expect(ociArch('arm64')).toBe('arm64');
    expect(() => ociArch('pdp11')).toThrow(/pdp11/);
  });
});
