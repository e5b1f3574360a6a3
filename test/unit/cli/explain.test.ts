import { explain, kindJsonSchema } from '../../../cli/output/explain';
import { KINDS, resolveKind } from '../../../messages';

const pod = resolveKind('pods')!;

/** The part of JSON Schema the walk below looks at. */
interface Schema {
  title?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
}

/** The schemas whose properties are fields one level down: array items, map values, union members. */
function inner(s: Schema): Schema[] {
  const out: Schema[] = [];
  if (s.items) out.push(s.items);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') out.push(s.additionalProperties);
  for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) out.push(alt);
  return out;
}

/** Calls `visit` with every field reachable from `s` and its path (`['spec', 'containers', 'name']`). */
function walkFields(s: Schema, visit: (path: string[], field: Schema) => void, path: string[] = []): void {
  for (const [name, field] of Object.entries(s.properties ?? {})) {
    const here = [...path, name];
    visit(here, field);
    const seen = [field];
    for (let i = 0; i < seen.length; i++) {
      walkFields(seen[i], visit, here);
      seen.push(...inner(seen[i]));
    }
  }
}

describe('explain', () => {
  it('explains a kind with its top-level fields', () => {
    const out = explain(pod, []);
    expect(out.startsWith('KIND:       Pod\nVERSION:    v1\n\nDESCRIPTION:\n')).toBe(true);
    expect(out).toContain('FIELDS:\n');
    expect(out).toMatch(/^ {2}spec\t<[A-Za-z]+> -required-$/m);
    expect(out).toMatch(/^ {2}metadata\t<[A-Za-z]+> -required-$/m);
  });

  it('walks into arrays and shows a field with its type, enum and requiredness', () => {
    const out = explain(pod, ['spec', 'containers']);
    expect(out).toContain('FIELD: containers <[]');
    expect(out).toMatch(/^ {2}name\t<string> -required-$/m);
    expect(out).toMatch(/^ {2}imagePullPolicy\t<string>\n {2}enum: Always, IfNotPresent, Never$/m);
    const leaf = explain(pod, ['spec', 'restartPolicy']);
    expect(leaf).toContain('FIELD: restartPolicy <string>\nenum: Always, OnFailure, Never\n');
    expect(leaf).not.toContain('FIELDS:');
  });

  it('prints the tree without descriptions when recursive', () => {
    const out = explain(pod, ['spec'], { recursive: true });
    expect(out).toMatch(/^ {2}containers\t<\[\][A-Za-z]+> -required-\n {4}args\t<\[\]string>$/m);
  });

  it('names a field that does not exist and where', () => {
    expect(() => explain(pod, ['spec', 'bogus'])).toThrow(/field "bogus" does not exist in pod\.spec \(fields: affinity, containers, /);
  });

  it.each(KINDS.map((k) => [k.plural, k] as const))('documents every field of %s', (_plural, kind) => {
    const undocumented: string[] = [];
    let fields = 0;
    walkFields(kindJsonSchema(kind), (path, field) => {
      fields++;
      if (!field.description?.trim()) undocumented.push(path.join('.'));
    });
    expect(fields).toBeGreaterThan(4);
    expect(undocumented).toEqual([]);
  });

  it.each(KINDS.map((k) => [k.plural, k] as const))('gives every object type of %s a title', (_plural, kind) => {
    const untitled: string[] = [];
    walkFields(kindJsonSchema(kind), (path, field) => {
      for (const s of [field, ...inner(field)]) if (s.properties && !s.title) untitled.push(path.join('.'));
    });
    expect(untitled).toEqual([]);
  });

  it('prints object types by their titles, like kubectl explain', () => {
    const top = explain(pod, []);
    expect(top).toMatch(/^ {2}metadata\t<ObjectMeta> -required-$/m);
    expect(top).toMatch(/^ {2}spec\t<PodSpec> -required-$/m);
    expect(top).not.toContain('<no description>');
    const spec = explain(pod, ['spec']);
    expect(spec).toContain('FIELD: spec <PodSpec>\n');
    expect(spec).toMatch(/^ {2}containers\t<\[\]Container> -required-$/m);
    expect(spec).toMatch(/^ {2}initContainers\t<\[\]Container>$/m);
    expect(spec).toMatch(/^ {2}nodeSelector\t<map\[string\]string>$/m);
    const containers = explain(pod, ['spec', 'containers']);
    expect(containers).toContain('FIELD: containers <[]Container>\n');
    expect(containers).toMatch(/^ {2}env\t<\[\]EnvVar>$/m);
    expect(containers).toMatch(/^ {2}ports\t<\[\]ContainerPort>$/m);
    expect(containers).toMatch(/^ {2}resources\t<ResourceRequirements>$/m);
    const resources = explain(pod, ['spec', 'containers', 'resources']);
    expect(resources).toMatch(/^ {2}requests\t<ResourceList>$/m);
    expect(resources).toMatch(/^ {2}limits\t<ResourceList>$/m);
    expect(explain(pod, ['spec', 'containers', 'resources', 'limits'])).toMatch(/^ {2}memory\t<Quantity>$/m);
    expect(explain(pod, ['metadata'])).toMatch(/^ {2}ownerReferences\t<\[\]OwnerReference>$/m);
    expect(explain(resolveKind('nodes')!, [])).toMatch(/^ {2}spec\t<NodeSpec>$/m);
    expect(explain(resolveKind('namespaces')!, [])).toMatch(/^ {2}spec\t<NamespaceSpec>$/m);
    const event = explain(resolveKind('events')!, []);
    expect(event).toMatch(/^ {2}involvedObject\t<ObjectReference> -required-$/m);
    expect(event).toMatch(/^ {2}source\t<EventSource> -required-$/m);
  });

  it('wraps descriptions to 80 columns at spaces, like kubectl explain', () => {
    for (const kind of KINDS) {
      const paths: string[][] = [[]];
      walkFields(kindJsonSchema(kind), (path) => paths.push(path));
      for (const path of paths) {
        const long = explain(kind, path).split('\n').filter((l) => !l.includes('\t') && !/^\s*enum: /.test(l) && !l.startsWith('FIELD: ') && l.length > 80);
        expect({ path: path.join('.'), long }).toEqual({ path: path.join('.'), long: [] });
      }
    }
    const grace = explain(pod, ['spec', 'terminationGracePeriodSeconds']).split('DESCRIPTION:\n')[1];
    expect(grace.split('\n').length).toBeGreaterThan(2);
    expect(grace.replace(/\n {4}/g, ' ')).toContain('between SIGTERM and SIGKILL');
  });

  it('says which metadata the server sets and that a manifest cannot', () => {
    for (const field of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp']) {
      const out = explain(pod, ['metadata', field]);
      expect(out).toMatch(/server/);
      expect(out).toMatch(/ignored/);
    }
  });

  it('documents where mk departs from Kubernetes: the pull policy default', () => {
    const out = explain(pod, ['spec', 'containers', 'imagePullPolicy']);
    expect(out).toContain('IfNotPresent');
    expect(out).toContain(':latest');
  });
});
