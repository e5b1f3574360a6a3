import { isValidation } from '../../messages';
import { CidrAllocator, parseIpv4Cidr } from './cidr';

describe('pod CIDR allocator', () => {
  it('cuts the cluster CIDR into node ranges and hands them out in order', () => {
    const a = new CidrAllocator('10.244.0.0/16', 24);
    expect(a.count).toBe(256);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual(['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']);
    expect(a.free).toBe(253);
    expect(new CidrAllocator('10.0.0.0/8', 20).cidrAt(17)).toBe('10.1.16.0/20');
  });

  it('gives nothing when exhausted, and a released range again after the others', () => {
    const a = new CidrAllocator('192.168.4.0/30', 32);
    const all = [a.allocate(), a.allocate(), a.allocate(), a.allocate()];
    expect(all).toEqual(['192.168.4.0/32', '192.168.4.1/32', '192.168.4.2/32', '192.168.4.3/32']);
    expect(a.allocate()).toBeUndefined();
    expect(a.free).toBe(0);
    a.release('192.168.4.1/32');
    expect(a.allocate()).toBe('192.168.4.1/32');
    expect(a.allocate()).toBeUndefined();
    // The cursor moves on: a range freed behind it waits for the ones ahead.
    const b = new CidrAllocator('10.1.0.0/22', 24);
    expect([b.allocate(), b.allocate()]).toEqual(['10.1.0.0/24', '10.1.1.0/24']);
    b.release('10.1.0.0/24');
    expect([b.allocate(), b.allocate(), b.allocate(), b.allocate()]).toEqual(['10.1.2.0/24', '10.1.3.0/24', '10.1.0.0/24', undefined]);
  });

  it('rebuilt after a restart from the ranges nodes hold, never hands one out twice', () => {
    const held = ['10.244.0.0/24', '10.244.2.0/24', '10.244.5.0/24'];
    const a = new CidrAllocator('10.244.0.0/21', 24);
    for (const c of held) expect(a.occupy(c)).toBe(true);
    const got: string[] = [];
    for (let c = a.allocate(); c; c = a.allocate()) got.push(c);
    expect(got).toEqual(['10.244.1.0/24', '10.244.3.0/24', '10.244.4.0/24', '10.244.6.0/24', '10.244.7.0/24']);
    expect(a.isTaken('10.244.5.0/24')).toBe(true);
  });

  it('ignores ranges that are not its own', () => {
    const a = new CidrAllocator('10.244.0.0/16', 24);
    for (const c of ['10.245.0.0/24', '10.244.1.0/25', '10.244.1.7/24', 'x']) expect(a.occupy(c)).toBe(false);
    a.release('10.9.0.0/24');
    expect(a.free).toBe(256);
  });

  it('handles 2^16 ranges, each allocation without a scan', () => {
    const a = new CidrAllocator('10.0.0.0/8', 24);
    expect(a.count).toBe(65_536);
    for (let i = 0; i < 65_536; i++) a.allocate();
    expect(a.allocate()).toBeUndefined();
    a.release('10.200.7.0/24');
    expect(a.allocate()).toBe('10.200.7.0/24');
  });

  it('refuses bad settings by name', () => {
    for (const [cidr, mask] of [['10.244.0.0/16', 16], ['10.244.0.0/16', 33], ['10.0.0.0/8', 25], ['fd00::/8', 24]] as const) {
      let e: unknown;
      try { new CidrAllocator(cidr, mask); } catch (err) { e = err; }
      expect(isValidation(e)).toBe(true);
    }
    expect(parseIpv4Cidr('10.244.0.0/16', 'x')).toEqual({ base: (10 * 2 ** 24) + (244 << 16), prefix: 16 });
  });
});
