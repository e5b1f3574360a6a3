import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ManifestError, MAX_MANIFEST_BYTES, parseManifests, readManifests, validateAll } from '../../../cli/manifest-reader';

const POD = (name: string, extra = ''): string =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n    - name: c\n      image: busybox${extra}\n`;

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-manifests-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const write = (name: string, text: string): string => {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
};
const names = (docs: { doc: unknown }[]): string[] => docs.map((d) => (d.doc as { metadata: { name: string } }).metadata.name);

describe('readManifests', () => {
  it('reads every document of a multi-document file, skipping empty ones', async () => {
    const f = write('pods.yaml', `---\n${POD('a')}---\n---\n${POD('b')}\n---\n`);
    const docs = await readManifests([f]);
    expect(names(docs)).toEqual(['a', 'b']);
    expect(docs.map((d) => d.index)).toEqual([1, 3]);
    expect(docs[0].source).toBe(f);
  });

  it('reads a directory: yaml, yml and json files in name order, not subdirectories unless recursive', async () => {
    write('b.yml', POD('b'));
    write('a.yaml', POD('a'));
    write('c.json', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'c' }, spec: { containers: [{ name: 'c', image: 'x' }] } }));
    write('notes.txt', 'not a manifest: [');
    write('sub/d.yaml', POD('d'));
    expect(names(await readManifests([dir]))).toEqual(['a', 'b', 'c']);
    expect(names(await readManifests([dir], { recursive: true }))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reads stdin for "-"', async () => {
    const docs = await readManifests(['-'], { stdin: Readable.from([Buffer.from(POD('x')), Buffer.from(`---\n${POD('y')}`)]) });
    expect(names(docs)).toEqual(['x', 'y']);
    expect(docs[0].source).toBe('STDIN');
  });

  it('flattens a v1 List', async () => {
    const f = write('list.yaml', `apiVersion: v1\nkind: List\nitems:\n  - ${POD('a').trim().split('\n').join('\n    ')}\n  - ${POD('b').trim().split('\n').join('\n    ')}\n`);
    expect(names(await readManifests([f]))).toEqual(['a', 'b']);
  });

  it('names the file and line of malformed YAML', async () => {
    const f = write('bad.yaml', `${POD('ok')}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n`);
    await expect(readManifests([f])).rejects.toThrow(ManifestError);
    await expect(readManifests([f])).rejects.toThrow(new RegExp(`error parsing ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: line 1[0-9], column`));
  });

  it('reports a duplicate key with its line', () => {
    expect(() => parseManifests('a: 1\nb: 2\na: 3\n', 'dup.yaml')).toThrow(/dup\.yaml: line 3/);
  });

  it('refuses a file over 5 MiB before parsing it', async () => {
    const f = path.join(dir, 'huge.yaml');
    fs.writeFileSync(f, Buffer.alloc(MAX_MANIFEST_BYTES + 1, 'a'));
    await expect(readManifests([f])).rejects.toThrow(/huge\.yaml is 5\.0 MiB: manifests larger than 5\.0 MiB are refused/);
  });

  it('refuses stdin over the limit', async () => {
    const big = Readable.from([Buffer.alloc(600, 'a'), Buffer.alloc(600, 'a')]);
    await expect(readManifests(['-'], { stdin: big, maxBytes: 1000 })).rejects.toThrow(/STDIN is over .* are refused/);
  });

  it('says when a path does not exist', async () => {
    await expect(readManifests([path.join(dir, 'nope.yaml')])).rejects.toThrow(/the path ".*nope\.yaml" does not exist/);
  });

  it('refuses URLs and a second stdin', async () => {
    await expect(readManifests(['https://example.invalid/x.yaml'])).rejects.toThrow(/URLs is not supported/);
    await expect(readManifests(['-', '-'])).rejects.toThrow(/only once/);
  });
});

describe('validateAll', () => {
  it('validates every document and returns them with kind and source', () => {
    const out = validateAll(parseManifests(`${POD('a')}---\n${POD('b')}`, 'f.yaml'), 'strict');
    expect(out.map((d) => `${d.kind.kind}/${d.object.metadata.name}`)).toEqual(['Pod/a', 'Pod/b']);
    expect(out[1].index).toBe(2);
  });

  it('throws one error naming every bad document, and returns nothing (so nothing is sent)', () => {
    const docs = parseManifests(`${POD('good')}---\n${POD('Bad_Name')}---\napiVersion: v1\nkind: Widget\nmetadata: {name: w}\n`, 'mixed.yaml');
    let err: Error | undefined;
    try {
      validateAll(docs, 'strict');
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(ManifestError);
    const lines = err!.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error validating "mixed\.yaml" \(document 2\): Pod "Bad_Name" is invalid: .*invalid name "Bad_Name"/);
    expect(lines[1]).toMatch(/^error validating "mixed\.yaml" \(document 3\): unknown kind "Widget"/);
  });

  it('makes an unknown field an error in strict mode (with the hint) and a warning in warn mode', () => {
    const docs = parseManifests(POD('a', '\n      imagePolicy: x'), 'f.yaml');
    expect(() => validateAll(docs, 'strict')).toThrow(/unknown field "spec\.containers\[0\]\.imagePolicy".*--validate=warn/);
    const [d] = validateAll(docs, 'warn');
    expect(d.warnings).toEqual(['unknown field "spec.containers[0].imagePolicy"']);
  });

  it('refuses input with no objects', () => {
    expect(() => validateAll(parseManifests('---\n', 'empty.yaml'), 'strict')).toThrow(/no objects/);
  });
});

describe('file modes in manifests', () => {
  const volumes = (mode: string): string => POD('m', '\n      volumeMounts:\n        - { name: conf, mountPath: /etc/app }')
    + `  volumes:\n    - name: conf\n      configMap:\n        name: app\n        defaultMode: ${mode}\n        items:\n          - { key: k, path: k, mode: ${mode} }\n`;
  const modes = (mode: string): unknown[] => {
    const [v] = validateAll(parseManifests(volumes(mode), 'm.yaml'), 'strict');
    const conf = (v.object as unknown as { spec: { volumes: { configMap: { defaultMode: unknown; items: { mode: unknown }[] } }[] } }).spec.volumes[0].configMap;
    return [conf.defaultMode, conf.items[0].mode];
  };

  it('reads a leading zero as octal, as kubectl does, and a plain number as decimal', () => {
    expect(modes('0644')).toEqual([420, 420]);
    expect(modes('0400')).toEqual([256, 256]);
    expect(modes('420')).toEqual([420, 420]);
    expect(modes('0o600')).toEqual([384, 384]);
    const [doc] = parseManifests(volumes('644'), 'm.yaml');
    expect(JSON.stringify(doc.doc)).toContain('"defaultMode":644');
    // 644 in decimal is 01204: more than 0777, refused as Kubernetes refuses it.
    expect(() => modes('644')).toThrow(/configMap\.defaultMode: Invalid value: 644: must be a number between 0 and 0777/);
  });

  it('keeps a quoted mode a string, which the schema refuses by name', () => {
    expect(() => modes('"0644"')).toThrow(/spec\.volumes\[0\]\.configMap\.defaultMode/);
    expect(() => modes('01000')).toThrow(/defaultMode: Invalid value: 512/);
  });
});
