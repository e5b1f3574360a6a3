import { parseJoinUrl } from './join-client';

describe('parseJoinUrl', () => {
  it('takes nats://HOST:PORT, 4222 by default, IPv6 in brackets', () => {
    expect(parseJoinUrl('nats://10.0.0.1:4333')).toEqual({ host: '10.0.0.1', port: 4333 });
    expect(parseJoinUrl('nats://cp.example')).toEqual({ host: 'cp.example', port: 4222 });
    expect(parseJoinUrl('nats://[fd00::1]:4222')).toEqual({ host: 'fd00::1', port: 4222 });
  });

  it('refuses anything else, naming the expected form', () => {
    for (const bad of ['10.0.0.1:4222', 'http://10.0.0.1:4222', 'nats://', 'nats://u:p@10.0.0.1:4222', 'nats://10.0.0.1:4222/x']) {
      expect(() => parseJoinUrl(bad)).toThrow(new RegExp(`invalid --join "${bad.replace(/[.[\]/]/g, '\\$&')}": (expected|give only) nats://HOST:PORT`));
    }
  });
});
