import { normalizeRequestUrl } from './request-path';

describe('normalizeRequestUrl', () => {
  it.each([
    ['/', '/'],
    ['/api/v1?x=1', '/api/v1?x=1'],
    ['/api/../admin', '/admin'],
    ['/api/./v1/', '/api/v1/'],
    ['/api/%2e%2E/admin', '/admin'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/%7Euser/%61', '/~user/a'],
    ['/a%2fb/%3a', '/a%2Fb/%3A'],
    ['/a/..?next=/../x', '/?next=/../x'],
  ])('%s -> %s', (raw, want) => {
    expect(normalizeRequestUrl(raw)).toBe(want);
  });

  it('refuses what is not a path: absolute form, a bad percent-encoding', () => {
    for (const raw of ['http://evil/x', '*', '', '/a%zz', '/a%4']) expect(normalizeRequestUrl(raw)).toBeUndefined();
  });
});
