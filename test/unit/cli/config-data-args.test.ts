import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configMapFrom, dockerRegistrySecret, envFileEntries, genericSecretFrom } from '../../../cli/config-data-args';

describe('mk create configmap / secret arguments', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cm-args-'));
    fs.writeFileSync(path.join(dir, 'app.conf'), 'mode=fast\n');
    fs.writeFileSync(path.join(dir, 'blob.bin'), Buffer.from([0xff, 0xfe, 0x00]));
    fs.mkdirSync(path.join(dir, 'tree'));
    fs.writeFileSync(path.join(dir, 'tree', 'a.txt'), 'A');
    fs.writeFileSync(path.join(dir, 'tree', 'b.txt'), 'B');
    fs.writeFileSync(path.join(dir, 'tree', 'bad name'), 'skipped');
    fs.writeFileSync(path.join(dir, 'app.env'), '\uFEFF# comment\n\nMODE=fast\n  LEVEL=a=b\nFROM_ENV\nUNSET_ONE\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds a ConfigMap from literals, files (text and binary), directories and env files', () => {
    process.env.FROM_ENV = 'from the environment';
    const cm = configMapFrom('cfg', undefined, {
      literals: ['k=v=w'],
      files: [path.join(dir, 'app.conf'), `renamed=${path.join(dir, 'app.conf')}`, path.join(dir, 'blob.bin'), path.join(dir, 'tree')],
      envFiles: [path.join(dir, 'app.env')],
    }) as unknown as { data: Record<string, string>; binaryData: Record<string, string> };
    delete process.env.FROM_ENV;
    expect(cm.data).toEqual({
      'app.conf': 'mode=fast\n', renamed: 'mode=fast\n', 'a.txt': 'A', 'b.txt': 'B', k: 'v=w', MODE: 'fast', LEVEL: 'a=b', FROM_ENV: 'from the environment',
    });
    expect(cm.binaryData).toEqual({ 'blob.bin': Buffer.from([0xff, 0xfe, 0x00]).toString('base64') });
  });

  it('refuses bad literals, keys, duplicates and missing files, naming them', () => {
    expect(() => configMapFrom('c', undefined, { literals: ['novalue'] })).toThrow('invalid literal source novalue, expected key=value');
    expect(() => configMapFrom('c', undefined, { literals: ['=v'] })).toThrow('expected key=value');
    expect(() => configMapFrom('c', undefined, { literals: ['a/b=v'] })).toThrow(/"a\/b" \(from --from-literal=a\/b=v\) is not a valid key name/);
    expect(() => configMapFrom('c', undefined, { literals: ['a=1', 'a=2'] })).toThrow('cannot add key a, another key by that name already exists in ConfigMap "c"');
    expect(() => configMapFrom('c', undefined, { files: [path.join(dir, 'nope')] })).toThrow(/no such file or directory/);
    expect(() => configMapFrom('c', undefined, { files: [`k=${path.join(dir, 'tree')}`] })).toThrow(/a key cannot be given for a directory/);
    expect(() => genericSecretFrom('s', undefined, { literals: ['a=1', 'a=2'] })).toThrow('already exists in Secret "s"');
  });

  it('reads env files as kubectl does and names a bad line', () => {
    expect(envFileEntries('A=1\n# c\nB\n', 'f', { B: '2' }).map((e) => [e.key, e.value.toString()])).toEqual([['A', '1'], ['B', '2']]);
    expect(() => envFileEntries('OK=1\n1BAD=2\n', 'my.env', {})).toThrow(/my\.env, line 2: "1BAD" is not a valid key name/);
  });

  it('encodes a generic Secret in base64 with its type', () => {
    const s = genericSecretFrom('s', 'ns', { literals: ['password=s3cret'] }, 'kubernetes.io/basic-auth');
    expect(s).toEqual({
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' }, type: 'kubernetes.io/basic-auth',
      data: { password: Buffer.from('s3cret').toString('base64') },
    });
  });

  it('writes a registry login as kubectl does, and requires user and password', () => {
    const s = dockerRegistrySecret('reg', undefined, { server: 'registry.local:5000', username: 'u', password: 'p', email: 'e@x' }) as unknown as {
      type: string; data: Record<string, string>;
    };
    expect(s.type).toBe('kubernetes.io/dockerconfigjson');
    expect(JSON.parse(Buffer.from(s.data['.dockerconfigjson'], 'base64').toString())).toEqual({
      auths: { 'registry.local:5000': { username: 'u', password: 'p', email: 'e@x', auth: Buffer.from('u:p').toString('base64') } },
    });
    const hub = dockerRegistrySecret('reg', undefined, { username: 'u', password: 'p' }) as unknown as { data: Record<string, string> };
    expect(Object.keys(JSON.parse(Buffer.from(hub.data['.dockerconfigjson'], 'base64').toString()).auths)).toEqual(['https://index.docker.io/v1/']);
    expect(() => dockerRegistrySecret('reg', undefined, { password: 'p' })).toThrow('--docker-username is required');
    expect(() => dockerRegistrySecret('reg', undefined, { username: 'u' })).toThrow('--docker-password is required');
  });
});
