import { pressureConditions, resourcesFrom, type NodeMeasurements } from './node-status';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const healthy: NodeMeasurements = {
  cpus: 4, memoryBytes: 8 * GiB, memoryAvailableBytes: 6 * GiB,
  fsBytes: 100 * GiB, fsAvailableBytes: 60 * GiB, fsInodes: 1_000_000, fsInodesFree: 900_000,
  pidMax: 32768, pidsInUse: 500, gpus: 0,
};
const status = (m: NodeMeasurements, type: string) => pressureConditions(m).find((c) => c.type === type);

describe('node status from measurements', () => {
  it('reports capacity, and allocatable less the system reservation and the eviction thresholds', () => {
    const r = resourcesFrom(healthy);
    expect(r.capacity).toEqual({ cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' });
    // 8Gi - 256Mi - 100Mi; 90% of 100Gi.
    expect(r.allocatable).toEqual({ cpu: '4', memory: `${8 * 1024 - 356}Mi`, pods: '110', 'ephemeral-storage': '90Gi' });
    expect(r.capacity['nvidia.com/gpu']).toBeUndefined();
  });

  it('adds nvidia.com/gpu when GPUs are present, all of them allocatable', () => {
    const r = resourcesFrom({ ...healthy, gpus: 2 });
    expect(r.capacity['nvidia.com/gpu']).toBe('2');
    expect(r.allocatable['nvidia.com/gpu']).toBe('2');
  });

  it('leaves ephemeral-storage out when the file system could not be read', () => {
    expect(resourcesFrom({ ...healthy, fsBytes: 0 }).capacity['ephemeral-storage']).toBeUndefined();
  });

  it('reports no pressure on a healthy machine, with the kubelet\'s reasons', () => {
    expect(pressureConditions(healthy).map((c) => `${c.type}=${c.status}:${c.reason}`)).toEqual([
      'MemoryPressure=False:KubeletHasSufficientMemory',
      'DiskPressure=False:KubeletHasNoDiskPressure',
      'PIDPressure=False:KubeletHasSufficientPID',
    ]);
  });

  it('reports MemoryPressure below 100Mi available, not at it', () => {
    expect(status({ ...healthy, memoryAvailableBytes: 100 * MiB }, 'MemoryPressure')?.status).toBe('False');
    const low = status({ ...healthy, memoryAvailableBytes: 99 * MiB }, 'MemoryPressure');
    expect(low).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientMemory' });
    expect(low?.message).toContain('99Mi');
  });

  it('reports DiskPressure below 10% space or 5% inodes free', () => {
    expect(status({ ...healthy, fsAvailableBytes: 10 * GiB }, 'DiskPressure')?.status).toBe('False');
    expect(status({ ...healthy, fsAvailableBytes: 9 * GiB }, 'DiskPressure')).toMatchObject({ status: 'True', reason: 'KubeletHasDiskPressure' });
    expect(status({ ...healthy, fsInodesFree: 49_999 }, 'DiskPressure')?.status).toBe('True');
  });

  it('reports PIDPressure when less than 10% of pid_max is left', () => {
    expect(status({ ...healthy, pidsInUse: 29_000 }, 'PIDPressure')?.status).toBe('False');
    expect(status({ ...healthy, pidsInUse: 29_600 }, 'PIDPressure')).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientPID' });
  });

  it('never reports pressure from a measurement that could not be taken', () => {
    const unknown = { ...healthy, memoryBytes: 0, memoryAvailableBytes: 0, fsBytes: 0, fsAvailableBytes: 0, fsInodes: 0, fsInodesFree: 0, pidMax: 0 };
    expect(pressureConditions(unknown).every((c) => c.status === 'False')).toBe(true);
  });
});
