import { readTrace } from './trace';
import { ANCHORS } from './trace-parse';
import { records, traceRecords } from './trace-parse-fixture';
import { formatTrace, traceGroups } from './trace-report';

describe('trace report', () => {
  const res = readTrace(traceRecords());

  it('reads one step per pair of consecutive anchors, adding up to apply -> Running', () => {
    expect(res.traced).toEqual(['web']);
    expect(res.steps.map((s) => s.to)).toEqual(ANCHORS.slice(1));
    const sum = res.steps.reduce((a, s) => a + s.ms[0], 0);
    expect(sum).toBeCloseTo(res.total[0], 1);
    expect(res.total[0]).toBeCloseTo(177.3, 2);
  });

  it('puts every step in exactly one group', () => {
    const g = traceGroups(res);
    expect(g.reduce((a, x) => a + x.ms[0], 0)).toBeCloseTo(res.total[0], 1);
    // RunPodSandbox 84 + CreateContainer 9 + StartContainer 52 (gRPC stamps, ms).
    expect(g.find((x) => x.label.startsWith('CRI:'))?.ms[0]).toBeCloseTo(145, 5);
  });

  it("prints every step, the total and mk's own time without the CRI calls", () => {
    const lines = formatTrace(res);
    expect(lines[0]).toBe('1 of 1 pods traced, one at a time on a quiet node; medians (min-max) in ms.');
    expect(lines.filter((l) => /^\| \d+ \|/.test(l))).toHaveLength(ANCHORS.length - 1);
    expect(lines).toContain('| | **apply -> Running** | | **177.3** | 177.3 | 177.3 |');
    expect(lines).toContain("| **mk's own time (apply -> Running minus the three CRI calls)** | **32.3** | 32.3 | 32.3 |");
  });

  it('says which pods it could not read, and why', () => {
    const rec = traceRecords(records());
    rec.runs.push({ name: 'lost', appliedAt: rec.runs[0].appliedAt + 1000, runningAt: rec.runs[0].appliedAt + 1200, busy: 0 });
    const both = readTrace(rec);
    expect(both.traced).toEqual(['web']);
    expect(both.failed).toEqual([{ name: 'lost', reason: 'trace of lost: no apply request on the bus found' }]);
    expect(formatTrace(both)[1]).toBe('Not read: lost (trace of lost: no apply request on the bus found)');
  });
});
