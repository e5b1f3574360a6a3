import { validateManifest } from '../../messages';
import { halfOf, objectsOf, volumeOrderOf, volumesCommand, type VolumesResult, type VolumesRound } from './volumes';
import { formatVolumes, summarizeVolumes } from './volumes-report';

const quiet = (busy = 0.02) => ({ waitedMs: 600, busy, idle: busy < 0.1 });
const roundOf = (r: number, withMs: number[], withoutMs: number[], busy = 0.02): VolumesRound => {
  const w = halfOf(withMs, quiet(busy));
  const wo = halfOf(withoutMs, quiet());
  return { round: r, first: volumeOrderOf(r - 1)[0], with: w, without: wo, ratioP50: w.p50 / wo.p50, ratioP90: w.p90 / wo.p90 };
};

describe('volumes method', () => {
  it('flips the order every round, without volumes first in the first', () => {
    expect(volumeOrderOf(0)).toEqual(['without', 'with']);
    expect(volumeOrderOf(1)).toEqual(['with', 'without']);
  });

  it('applies a claim and then a pod mounting it, an emptyDir and the ConfigMap; the plain pod alone; all valid', () => {
    const w = objectsOf('with', 'p-1');
    expect(w.map((o) => o.kind)).toEqual(['PersistentVolumeClaim', 'Pod']);
    for (const o of [...w, ...objectsOf('without', 'p-2')]) expect(() => validateManifest(o)).not.toThrow();
    const pod = validateManifest(w[1]).object as unknown as { spec: { volumes: Record<string, unknown>[] } };
    expect(pod.spec.volumes.map((v) => Object.keys(v).find((k) => k !== 'name'))).toEqual(['emptyDir', 'configMap', 'persistentVolumeClaim']);
    expect(objectsOf('without', 'p-2').map((o) => o.kind)).toEqual(['Pod']);
  });

  it('sums a half up: p50, p90 by nearest rank, fastest and slowest', () => {
    const h = halfOf([300, 100, 200, 400, 1000, 500, 600, 700, 800, 900], quiet(0.12345));
    expect(h).toMatchObject({ p50: 500, p90: 900, min: 100, max: 1000, n: 10, quiet: { busy: 0.123, idle: false } });
  });
});

describe('volumes report', () => {
  const res: VolumesResult = {
    pods: 3, rounds: 3, command: volumesCommand(3, 3),
    results: [roundOf(1, [300, 320, 400], [200, 210, 250]), roundOf(2, [330, 350, 500], [220, 230, 260]), roundOf(3, [280, 300, 360], [200, 205, 240], 0.3)],
  };

  it('summarises by medians over rounds and the spread of the per-round ratios', () => {
    const s = summarizeVolumes(res);
    expect(s).toMatchObject({ withP50: 320, withP90: 400, withoutP50: 210, withoutP90: 250 });
    expect(s.ratioP50).toEqual({ min: 1.46, median: 1.52, max: 1.52 });
  });

  it('prints the command, the headline table, every round with its spread, and the busy halves', () => {
    const text = formatVolumes(res).join('\n');
    expect(text.split('\n')[0]).toBe('`npm run bench -- volumes --pods 3 --rounds 3`');
    expect(text).toContain('| pods | with p50 (ms) | with p90 (ms) | without p50 (ms) | without p90 (ms) | ratio p50 | ratio p90 |');
    expect(text).toContain('| 3 one after another | 320 | 400 | 210 | 250 | 1.52x (1.46-1.52) | 1.60x (1.50-1.92) |');
    expect(text).toContain('| 2 | with | 350 / 500 (330-500) | 230 / 260 (220-260) | 1.52x | 1.92x |');
    expect(text).toContain('1 of 6 halves started with the CPU still busy (up to 30.0 %)');
    const calm = { ...res, results: res.results.map((r) => ({ ...r, with: { ...r.with, quiet: quiet(0.05) } })) };
    expect(formatVolumes(calm).join('\n')).toContain('the CPU under 10 % busy (the busiest: 5.0 % over 500 ms)');
    expect(() => formatVolumes({ ...res, results: [] })).toThrow(/no round/);
  });
});
