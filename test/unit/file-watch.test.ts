/**
 * A file trigger's watch on a real directory of this machine (chokidar on a temp dir): its
 * directory removed under it ends the watch and says so, and a watch started again from the
 * nearest directory left sees the path made again.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { until } from '../helpers/wait';
import type { FileEvent } from '../../messages';
import type { DebouncedChange } from '../../node-agent/triggers/file-events';
import { startFileWatch, type FileWatch } from '../../node-agent/triggers/file-watch';

let dir: string;
const watches: FileWatch[] = [];
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-file-watch-')); });
afterEach(async () => {
  await Promise.all(watches.splice(0).map((w) => w.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

it.each([
  ['by itself', ['a', 'b']],
  ['with the directory above it', ['a']],
])('says it is lost when the directory it stands on is removed %s; started again, it sees the path made anew', async (_, removed) => {
  fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  const target = path.join(dir, 'a', 'b', 'in');
  const fired: DebouncedChange[] = [];
  let lost = 0;
  const t = { path: target, events: ['create', 'write', 'delete'] as FileEvent[], debounceMs: 20 };
  const first = startFileWatch(t, (c) => fired.push(c), (err) => { throw err; }, () => { lost++; });
  watches.push(first);
  await first.ready;
  fs.rmSync(path.join(dir, ...removed), { recursive: true });
  await until('the watch lost', () => (lost > 0 ? true : undefined), 10_000);
  expect(first.failure()?.message).toMatch(/a\/b, the directory the watch stood on, was removed/);
  expect(lost).toBe(1);

  const again = startFileWatch(t, (c) => fired.push(c), (err) => { throw err; });
  watches.push(again);
  await again.ready;
  fs.mkdirSync(target, { recursive: true });
  fs.writeFileSync(path.join(target, 'f'), 'x');
  await until('the new file fired', () => (fired.length > 0 ? true : undefined), 10_000);
  expect(fired.map((c) => [c.path, c.event])).toEqual([[path.join(target, 'f'), 'create']]);
  expect(again.failure()).toBeUndefined();
});
