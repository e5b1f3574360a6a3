import type { Secret } from '../../messages/config-data';
import { imageRegistry, pullAuth } from './pull-auth';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dockerconfigjson = (name: string, auths: Record<string, unknown>): Secret => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) },
});

describe('imageRegistry', () => {
  it.each([
    ['busybox', 'docker.io'], ['library/busybox:1', 'docker.io'], ['user/app', 'docker.io'],
    ['docker.io/library/busybox', 'docker.io'], ['index.docker.io/x/y', 'docker.io'],
    ['registry.local:5000/app:1', 'registry.local:5000'], ['localhost/app', 'localhost'], ['10.0.0.1:5000/a@sha256:00', '10.0.0.1:5000'],
  ])('%s -> %s', (image, host) => expect(imageRegistry(image)).toBe(host));
});

describe('pullAuth', () => {
  const reg = dockerconfigjson('reg', { 'https://registry.local:5000/v2/': { username: 'u', password: 'p', auth: b64('u:p') } });
  const hub = dockerconfigjson('hub', { 'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') } });
  const wild = dockerconfigjson('wild', { '*.corp.example': { identitytoken: 'tok' } });
  const opaque: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'o' }, data: { '.dockerconfigjson': reg.data!['.dockerconfigjson'] } };
  const dockercfg: Secret = {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'old' }, type: 'kubernetes.io/dockercfg',
    data: { '.dockercfg': b64(JSON.stringify({ 'old.example': { username: 'o', password: 'q' } })) },
  };

  it("picks the login for the image's registry host", () => {
    expect(pullAuth('registry.local:5000/app:1', [hub, reg])).toEqual({ serverAddress: 'registry.local:5000', username: 'u', password: 'p', auth: b64('u:p') });
  });
  it('splits a login given only as auth, at the first colon', () => {
    expect(pullAuth('busybox', [reg, hub])).toMatchObject({ serverAddress: 'docker.io', username: 'hubuser', password: 'hub:pass' });
  });
  it('matches wildcard servers label by label, and passes identity tokens', () => {
    expect(pullAuth('a.corp.example/app', [wild])).toEqual({ serverAddress: 'a.corp.example', identityToken: 'tok' });
    expect(pullAuth('a.b.corp.example/app', [wild])).toBeUndefined();
  });
  it('reads the older dockercfg type, and ignores other types and other registries', () => {
    expect(pullAuth('old.example/x', [dockercfg])).toMatchObject({ username: 'o', password: 'q' });
    expect(pullAuth('registry.local:5000/app', [opaque])).toBeUndefined();
    expect(pullAuth('other.example/app', [reg, hub])).toBeUndefined();
    expect(pullAuth('registry.local:5001/app', [reg])).toBeUndefined();
  });
  it('takes the first secret with a login for the registry', () => {
    const second = dockerconfigjson('second', { 'registry.local:5000': { username: 'x', password: 'y' } });
    expect(pullAuth('registry.local:5000/app', [reg, second])).toMatchObject({ username: 'u' });
    expect(pullAuth('registry.local:5000/app', [second, reg])).toMatchObject({ username: 'x' });
  });
});
