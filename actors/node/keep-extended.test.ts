import { keepExtendedResources } from './node-api';

describe('keepExtendedResources (a node agent registering again)', () => {
  const stored = {
    capacity: { cpu: '2', 'example.com/dongle': '4', 'nvidia.com/gpu': '8' },
    allocatable: { cpu: '2', 'example.com/dongle': '4', 'nvidia.com/gpu': '8' },
  };

  it('keeps what a user patched into the status, and drops GPUs the agent no longer finds', () => {
    const out = keepExtendedResources(stored, { capacity: { cpu: '4' }, allocatable: { cpu: '4' } });
    expect(out).toEqual({ capacity: { cpu: '4', 'example.com/dongle': '4' }, allocatable: { cpu: '4', 'example.com/dongle': '4' } });
  });

  it('takes the reported count of GPUs over the stored one', () => {
    const out = keepExtendedResources(stored, { capacity: { cpu: '2', 'nvidia.com/gpu': '2' }, allocatable: { cpu: '2', 'nvidia.com/gpu': '2' } });
    expect(out?.capacity).toEqual({ cpu: '2', 'nvidia.com/gpu': '2', 'example.com/dongle': '4' });
  });
});
