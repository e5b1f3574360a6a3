import * as fs from 'node:fs';
import { loadAll } from 'js-yaml';
import { validateManifest } from './manifest';
import { podColumns } from './printing/pod-status';
import type { Pod } from './pod';

const pod = (spec: Record<string, unknown>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
});
const c = (extra: Record<string, unknown> = {}) => ({
  maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...extra,
});

describe('schedulingGates', () => {
  it('accepts named gates', () => {
    const doc = pod({ schedulingGates: [{ name: 'example.com/quota' }, { name: 'ready' }] });
    expect(validateManifest(doc).object).toEqual(doc);
  });

  it.each([
    [{ schedulingGates: [{ name: 'a' }, { name: 'a' }] }, /duplicate scheduling gate "a"/],
    [{ schedulingGates: [{ name: 'bad name!' }] }, /"bad name!" is not a qualified name/],
    [{ schedulingGates: [{}] }, /name/],
    [{ schedulingGates: [{ name: 'a' }], nodeName: 'n1' }, /nodeName may not be set on a pod with schedulingGates/],
  ])('refuses %j', (spec, msg) => {
    expect(() => validateManifest(pod(spec))).toThrow(msg);
  });

  it('makes the STATUS column say SchedulingGated', () => {
    const p = {
      ...pod({}), status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] },
    } as unknown as Pod;
    expect(podColumns(p).status).toBe('SchedulingGated');
    expect(podColumns({ ...p, status: { phase: 'Pending' } }).status).toBe('Pending');
  });
});

describe('topologySpreadConstraints', () => {
  it('accept every field', () => {
    const doc = pod({
      topologySpreadConstraints: [
        c({ minDomains: 2, matchLabelKeys: ['pod-template-hash'], nodeAffinityPolicy: 'Ignore', nodeTaintsPolicy: 'Honor' }),
        c({ topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 }),
      ],
    });
    expect(validateManifest(doc).object).toEqual(doc);
  });

  it.each([
    [c({ maxSkew: 0 }), /maxSkew must be at least 1/],
    [c({ maxSkew: 1.5 }), /maxSkew/],
    [c({ topologyKey: undefined }), /topologyKey/],
    [c({ topologyKey: '' }), /"" is not a qualified name/],
    [c({ whenUnsatisfiable: 'Sometimes' }), /whenUnsatisfiable/],
    [c({ minDomains: 0 }), /minDomains must be at least 1/],
    [c({ whenUnsatisfiable: 'ScheduleAnyway', minDomains: 2 }), /minDomains may only be set with whenUnsatisfiable DoNotSchedule/],
    [c({ matchLabelKeys: ['app'] }), /"app" is in labelSelector already/],
    [c({ labelSelector: undefined, matchLabelKeys: ['hash'] }), /matchLabelKeys needs a labelSelector/],
    [c({ nodeAffinityPolicy: 'Maybe' }), /nodeAffinityPolicy/],
    [c({ maxSkews: 1 }), /maxSkews/],
  ])('refuse %j', (constraint, msg) => {
    expect(() => validateManifest(pod({ topologySpreadConstraints: [constraint] }))).toThrow(msg);
  });

  it('refuse two constraints for the same key and whenUnsatisfiable', () => {
    expect(() => validateManifest(pod({ topologySpreadConstraints: [c(), c({ maxSkew: 2 })] })))
      .toThrow(/duplicate topology spread constraint for topologyKey "topology.kubernetes.io\/zone" and whenUnsatisfiable DoNotSchedule/);
  });
});

describe('examples/spread.yaml', () => {
  it('is a valid Deployment with spread constraints and a gated pod', () => {
    const docs = loadAll(fs.readFileSync(`${__dirname}/../examples/spread.yaml`, 'utf8')).map((d) => validateManifest(d).object);
    expect(docs.map((d) => d.kind)).toEqual(['Deployment', 'Pod']);
    const spec = (docs[0] as unknown as { spec: { template: { spec: { topologySpreadConstraints: unknown[] } } } }).spec;
    expect(spec.template.spec.topologySpreadConstraints).toHaveLength(2);
    expect((docs[1] as unknown as Pod).spec.schedulingGates).toEqual([{ name: 'example.com/approval' }]);
  });
});
