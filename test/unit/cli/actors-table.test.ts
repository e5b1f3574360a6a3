/** The `mk actors` table and its orders, on rows made here (no cluster). */
import type { ActorRow } from '../../../cli/actors';
import { renderActors, sortActors } from '../../../cli/output/actors';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const row = (process: string, path: string, stats?: Partial<NonNullable<ActorRow['stats']>>, extra: Partial<ActorRow> = {}): ActorRow => ({
  process, path, name: path.split('/').pop()!, kind: 'pod', system: false, since: '2026-11-30T11:00:00Z',
  object: { kind: 'Pod', namespace: 'default', name: path.split('/').pop()! },
  ...(stats ? { stats: { path, mailbox: 0, handled: 0, rate: 0, meanMs: 0, p99Ms: 0, maxWaitMs: 0, restarts: 0, ...stats } } : {}),
  ...extra,
});

describe('mk actors table', () => {
  it('aligns columns and shows the last crash with its age, cut to fit', () => {
    const out = renderActors([
      row('node-n1', '/node/pods/a', { mailbox: 3, rate: 2.5, p99Ms: 1.25, restarts: 2, lastCrash: { at: '2026-11-30T11:58:00Z', error: 'CRI RunPodSandbox: deadline exceeded '.repeat(4) } }),
      row('cp-x', '/leader-1/pods/b', undefined, { object: undefined, kind: 'scheduler', system: true }),
    ], { now: NOW });
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const starts = (l: string) => ['PATH', 'KIND', 'OBJECT'].map((h) => lines[0].indexOf(h)).map((i) => l.slice(i).split(/\s{2,}/)[0]);
    expect(starts(lines[1])).toEqual(['/node/pods/a', 'pod', 'pod/default/a']);
    expect(lines[1]).toMatch(/\s3\s+2\.5\s+1\.3\s+2\s+2m ago: CRI RunPodSandbox/);
    expect(lines[1]).toMatch(/…$/);
    expect(lines[2]).toMatch(/^cp-x\s+\/leader-1\/pods\/b\s+scheduler\s+-\s+0\s+0\s+-\s+0\s+-$/);
  });

  it('sorts by path within processes, or largest first by a figure', () => {
    const rows = [row('b', '/z', { mailbox: 1 }), row('a', '/y', { mailbox: 9 }), row('a', '/x', { mailbox: 5 })];
    expect(sortActors(rows).map((r) => `${r.process}${r.path}`)).toEqual(['a/x', 'a/y', 'b/z']);
    expect(sortActors(rows, 'mailbox').map((r) => r.path)).toEqual(['/y', '/x', '/z']);
  });

  it('prints no header with noHeaders, and wide columns with wide', () => {
    expect(renderActors([row('p', '/a', {})], { noHeaders: true, now: NOW })).not.toMatch(/PROCESS/);
    expect(renderActors([row('p', '/a', {})], { wide: true, now: NOW })).toMatch(/MEAN\(ms\)\s+MAX WAIT\(ms\)\s+AGE/);
  });
});
