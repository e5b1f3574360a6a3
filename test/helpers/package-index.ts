/**
 * Package indexes on loopback for tests that install dependencies without the internet: a PEP
 * 503 "simple" index serving wheels to pip (https://peps.python.org/pep-0503/), and an npm
 * registry serving packuments and tarballs (https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md).
 * The packages are made by the test: `buildWheel` writes a pure-python wheel, `packNpm` runs
 * `npm pack` on a package directory. Each server counts the requests it answered.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/** A loopback index: its URL (pip's index URL, npm's registry), the paths it was asked for, and stop(). */
export interface PackageIndex {
  url: string;
  requests: string[];
  stop: () => Promise<void>;
}

/** PEP 503's normalized project name. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function stopper(server: Server): () => Promise<void> {
  return () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/**
 * Writes `<dir>/<module>-<version>-py3-none-any.whl` holding `files` (paths inside the wheel,
 * e.g. `mod/__init__.py`) plus its dist-info (METADATA, WHEEL, RECORD with sha256 hashes), zipped
 * by this machine's python3. Returns the wheel's path.
 */
export function buildWheel(dir: string, name: string, version: string, files: Record<string, string>): string {
  const dist = `${name.replace(/-/g, '_')}-${version}`;
  const wheel = path.join(dir, `${dist}-py3-none-any.whl`);
  const all: Record<string, string> = {
    ...files,
    [`${dist}.dist-info/METADATA`]: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`,
    [`${dist}.dist-info/WHEEL`]: 'Wheel-Version: 1.0\nGenerator: mk-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  };
  const record = Object.entries(all).map(([p, text]) => {
    const digest = createHash('sha256').update(text).digest('base64url');
    return `${p},sha256=${digest},${Buffer.byteLength(text)}`;
  });
  all[`${dist}.dist-info/RECORD`] = [...record, `${dist}.dist-info/RECORD,,`, ''].join('\n');
  const script = 'import json, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    for p, t in json.load(sys.stdin).items():\n        z.writestr(p, t)\n';
  execFileSync('python3', ['-c', script, wheel], { input: JSON.stringify(all) });
  return wheel;
}

/** Serves `wheels` (paths) as a PEP 503 index at `<url>/simple/`; any other project is 404. */
export async function startPythonIndex(wheels: string[]): Promise<PackageIndex> {
  const byProject = new Map<string, string[]>();
  for (const w of wheels) {
    const project = normalize(path.basename(w).split('-')[0]);
    byProject.set(project, [...byProject.get(project) ?? [], w]);
  }
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const project = /^\/simple\/([^/]+)\/?$/.exec(url)?.[1];
    if (project !== undefined && byProject.has(normalize(project))) {
      const links = (byProject.get(normalize(project)) ?? []).map((w) => {
        const sha = createHash('sha256').update(fs.readFileSync(w)).digest('hex');
        return `<a href="/files/${path.basename(w)}#sha256=${sha}">${path.basename(w)}</a><br/>`;
      });
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!DOCTYPE html><html><body>${links.join('\n')}</body></html>\n`);
      return;
    }
    const file = /^\/files\/([^/]+)$/.exec(url)?.[1];
    const wheel = wheels.find((w) => path.basename(w) === file);
    if (wheel) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(fs.readFileSync(wheel));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  });
  const base = await listen(server);
  return { url: `${base}/simple/`, requests, stop: stopper(server) };
}

/** A package `npm pack` made: its name, version and tarball bytes. */
export interface NpmTarball { name: string; version: string; bytes: Buffer }

/** Writes a package (package.json from `name` and `version`, plus `files`) under `dir` and packs it with `npm pack`. */
export function packNpm(dir: string, name: string, version: string, files: Record<string, string>): NpmTarball {
  const src = path.join(dir, `${name}-src`);
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'package.json'), JSON.stringify({ name, version, main: 'index.js', license: 'MIT' }));
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(src, p)), { recursive: true });
    fs.writeFileSync(path.join(src, p), text);
  }
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: src, env: { ...process.env, npm_config_loglevel: 'error' } }).toString();
  const [{ filename }] = JSON.parse(out) as { filename: string }[];
  return { name, version, bytes: fs.readFileSync(path.join(dir, filename)) };
}

/** Serves `tarballs` as an npm registry: `GET /<name>` is the packument, the tarball is at `/<name>/-/<name>-<version>.tgz`; anything else is 404. */
export async function startNpmRegistry(tarballs: NpmTarball[]): Promise<PackageIndex> {
  const requests: string[] = [];
  let base = '';
  const server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '/');
    requests.push(url);
    const name = url.slice(1);
    const versions = tarballs.filter((t) => t.name === name);
    if (versions.length > 0) {
      const doc = {
        name,
        'dist-tags': { latest: versions[versions.length - 1].version },
        versions: Object.fromEntries(versions.map((t) => [t.version, {
          name, version: t.version,
          dist: {
            tarball: `${base}/${name}/-/${name}-${t.version}.tgz`,
            shasum: createHash('sha1').update(t.bytes).digest('hex'),
            integrity: `sha512-${createHash('sha512').update(t.bytes).digest('base64')}`,
          },
        }])),
      };
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(doc));
      return;
    }
    const t = tarballs.find((x) => url === `/${x.name}/-/${x.name}-${x.version}.tgz`);
    if (t) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(t.bytes);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'Not found' }));
  });
  base = await listen(server);
  return { url: `${base}/`, requests, stop: stopper(server) };
}

/** A loopback URL nothing listens on: a port bound and closed again. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}
