/** A stopped actor's children and grandchildren stop too, and their afterStop runs. */
import { spawn, start, stop } from 'nact';
import { nactStopFixed } from './nact-fixes';

describe('nact stop fix', () => {
  it('stops the whole subtree of a stopped actor', async () => {
    expect(nactStopFixed()).toBe(true);
    const system = start();
    try {
      const stopped: string[] = [];
      let allStopped: () => void = () => undefined;
      const done = new Promise<void>((r) => { allStopped = r; });
      const note = (name: string) => () => { stopped.push(name); if (stopped.length === 3) allStopped(); };
      const parent = spawn(system, (s: object = {}) => s, 'parent', { afterStop: note('parent') });
      const child = spawn(parent, (s: object = {}) => s, 'child', { afterStop: note('child') });
      spawn(child, (s: object = {}) => s, 'grandchild', { afterStop: note('grandchild') });
      spawn(system, (s: object = {}) => s, 'sibling', { afterStop: note('sibling') });
      stop(parent);
      await done;
      await new Promise((r) => setImmediate(r));
      expect(stopped.sort()).toEqual(['child', 'grandchild', 'parent']);
    } finally {
      stop(system);
    }
  });
});
