import os from 'node:os';
import { measureNode } from './measure';
import { pressureConditions, resourcesFrom } from './node-status';

describe('measureNode on this machine', () => {
  it('reads memory, the data directory\'s file system and PIDs', async () => {
    const m = await measureNode(os.tmpdir(), 0);
    expect(m.cpus).toBe(os.cpus().length);
    expect(m.memoryBytes).toBe(os.totalmem());
    expect(m.memoryAvailableBytes).toBeGreaterThan(0);
    expect(m.memoryAvailableBytes).toBeLessThanOrEqual(m.memoryBytes);
    expect(m.fsBytes).toBeGreaterThan(0);
    expect(m.fsAvailableBytes).toBeLessThanOrEqual(m.fsBytes);
    expect(m.pidMax).toBeGreaterThan(0);
    expect(m.pidsInUse).toBeGreaterThan(0);
    expect(m.pidsInUse).toBeLessThan(m.pidMax);
    const r = resourcesFrom(m);
    expect(r.capacity['ephemeral-storage']).toMatch(/^\d+(Mi|Gi)$/);
    expect(pressureConditions(m).map((c) => c.type)).toEqual(['MemoryPressure', 'DiskPressure', 'PIDPressure']);
  });

  it('reports no file system for a data directory it cannot read', async () => {
    const m = await measureNode('/nonexistent/mk-data-dir', 0);
    expect(m.fsBytes).toBe(0);
    expect(resourcesFrom(m).capacity['ephemeral-storage']).toBeUndefined();
  });
});
