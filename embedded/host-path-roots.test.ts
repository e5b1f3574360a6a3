import { hostPathRootsOf } from './services';

describe('hostPathRootsOf', () => {
  it('takes the flag, else MK_HOST_PATH_ROOTS split on colons, else none', () => {
    expect(hostPathRootsOf(['/srv/data', '/var/lib/app/'], { MK_HOST_PATH_ROOTS: '/x' })).toEqual(['/srv/data', '/var/lib/app']);
    expect(hostPathRootsOf(undefined, { MK_HOST_PATH_ROOTS: '/srv:/tmp/shared:' })).toEqual(['/srv', '/tmp/shared']);
    expect(hostPathRootsOf(undefined, {})).toEqual([]);
  });

  it('refuses a relative root, naming where it came from', () => {
    expect(() => hostPathRootsOf(['data'], {})).toThrow('--host-path-root: "data" is not an absolute path');
    expect(() => hostPathRootsOf(undefined, { MK_HOST_PATH_ROOTS: 'srv' })).toThrow('MK_HOST_PATH_ROOTS: "srv" is not an absolute path');
    expect(() => hostPathRootsOf(['/srv/a:b'], {})).toThrow('--host-path-root: "/srv/a:b" contains \':\', which separates the roots of MK_HOST_PATH_ROOTS');
  });
});
