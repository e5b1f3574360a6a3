import { fitErrorMessage } from './fit-error';

describe('the FailedScheduling message', () => {
  it("counts reasons and sorts them as strings, as kube-scheduler's FitError does", () => {
    const reasons = new Map([['Insufficient cpu', 2], ['node(s) had untolerated taint {dedicated: gpu}', 1]]);
    expect(fitErrorMessage(3, reasons)).toBe(
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: not eligible.',
    );
  });

  it('sorts the count with the reason, so 10 comes before 2', () => {
    const reasons = new Map([["node(s) didn't match Pod's node affinity/selector", 2], ['Insufficient memory', 10]]);
    expect(fitErrorMessage(12, reasons)).toBe(
      "0/12 nodes are available: 10 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector. preemption: not eligible.",
    );
  });

  it('gives a pre-filter rejection alone, without a count, as it holds for every node', () => {
    expect(fitErrorMessage(3, new Map(), 'pod has unbound immediate PersistentVolumeClaims')).toBe(
      '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: not eligible.',
    );
  });

  it('says so when there are no nodes at all', () => {
    expect(fitErrorMessage(0, new Map())).toBe('no nodes available to schedule pods');
  });
});
