import { validateManifest } from './manifest';
import { defaultFunction, scalingSettings, type FunctionObject } from './function';
import { FunctionKind } from './kinds/function';
import { resolveKind } from './registry';

const digest = `sha256:${'ab'.repeat(32)}`;
const code = { digest, size: 1024, files: 1 };
const fn = (spec: Record<string, unknown>, name = 'add') => ({ apiVersion: 'mk.io/v1', kind: 'Function', metadata: { name }, spec });
const valid = (spec: Record<string, unknown>) => validateManifest(fn(spec)).object as unknown as FunctionObject;
const refused = (spec: Record<string, unknown>): string => {
  try {
    validateManifest(fn(spec));
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('Function manifests', () => {
  it('accepts a handler or a command, with the full spec as written', () => {
    const full = {
      runtime: 'python3', handler: 'lib/add.handler', code,
      env: [{ name: 'MODE', value: 'fast' }, { name: 'KEY', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'CFG', valueFrom: { configMapKeyRef: { name: 'app', key: 'color', optional: true } } }],
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      timeoutSeconds: 900, concurrency: 1000, minInstances: 2, maxInstances: 2, idleSeconds: 1,
    };
    expect(valid(full).spec).toEqual(full);
    expect(valid({ runtime: 'node', command: 'python add.py', code }).spec.command).toBe('python add.py');
    expect(valid({ runtime: 'node', handler: 'index.$main', code }).spec.handler).toBe('index.$main');
    expect(valid({ runtime: 'python3', handler: 'add.handler', code: { path: 'add.py' } }).spec.code).toEqual({ path: 'add.py' });
  });

  it('fills in the defaults: 60 s timeout, concurrency 1, 0 to 10 instances, 60 s idle', () => {
    expect(defaultFunction(valid({ runtime: 'python3', handler: 'add.handler', code })).spec).toEqual({
      runtime: 'python3', handler: 'add.handler', code, timeoutSeconds: 60, concurrency: 1, minInstances: 0, maxInstances: 10, idleSeconds: 60,
    });
    expect(defaultFunction(valid({ runtime: 'python3', handler: 'add.handler', code, maxInstances: 3 })).spec.maxInstances).toBe(3);
  });

  it.each([
    ['an unsupported runtime', { runtime: 'ruby', handler: 'a.b', code }, 'spec.runtime: Unsupported value: "ruby": supported values: "node", "python3"'],
    ['no runtime', { handler: 'a.b', code }, 'spec.runtime: Required value'],
    ['neither handler nor command', { runtime: 'node', code }, 'spec.handler: Required value: give a handler (<module>.<function>) or a command'],
    ['both handler and command', { runtime: 'node', handler: 'a.b', command: 'node a.js', code }, 'spec.command: Forbidden: may not be specified when `handler` is'],
    ['a handler without a function', { runtime: 'node', handler: 'add', code }, 'spec.handler: Invalid value: "add": must be <module>.<function>'],
    ['a handler with a bad module', { runtime: 'node', handler: '../add.handler', code }, 'spec.handler: Invalid value: "../add.handler"'],
    ['a handler with a hyphen', { runtime: 'node', handler: 'my-mod.handler', code }, 'spec.handler: Invalid value'],
    ['an empty command', { runtime: 'node', command: '  ', code }, 'spec.command: Required value: the command is empty'],
    ['a bad digest', { runtime: 'node', handler: 'a.b', code: { ...code, digest: 'md5:00' } }, 'spec.code.digest: Invalid value: "md5:00": must be sha256:<64 lower-case hex digits>'],
    ['an upper-case digest', { runtime: 'node', handler: 'a.b', code: { ...code, digest: digest.toUpperCase() } }, 'spec.code.digest: Invalid value'],
    ['no code', { runtime: 'node', handler: 'a.b' }, 'spec.code: Required value'],
    ['code without a size', { runtime: 'node', handler: 'a.b', code: { digest, files: 1 } }, 'spec.code.size: Required value: give path, or digest, size and files'],
    ['a path with a digest', { runtime: 'node', handler: 'a.b', code: { path: 'x', digest } }, 'spec.code.digest: Forbidden: may not be specified together with `path`'],
    ['a negative size', { runtime: 'node', handler: 'a.b', code: { ...code, size: -1 } }, 'spec.code.size: Invalid value: -1: must be greater than or equal to 0'],
    ['a timeout of 0', { runtime: 'node', handler: 'a.b', code, timeoutSeconds: 0 }, 'spec.timeoutSeconds: Invalid value: 0: must be between 1 and 900, inclusive'],
    ['a timeout of 901', { runtime: 'node', handler: 'a.b', code, timeoutSeconds: 901 }, 'spec.timeoutSeconds: Invalid value: 901: must be between 1 and 900, inclusive'],
    ['a fractional timeout', { runtime: 'node', handler: 'a.b', code, timeoutSeconds: 1.5 }, 'spec.timeoutSeconds: Invalid value: 1.5: must be a whole number'],
    ['a text timeout', { runtime: 'node', handler: 'a.b', code, timeoutSeconds: '60s' }, 'spec.timeoutSeconds: Invalid value: "60s": must be a number'],
    ['concurrency 0', { runtime: 'node', handler: 'a.b', code, concurrency: 0 }, 'spec.concurrency: Invalid value: 0: must be between 1 and 1000, inclusive'],
    ['concurrency 1001', { runtime: 'node', handler: 'a.b', code, concurrency: 1001 }, 'spec.concurrency: Invalid value: 1001: must be between 1 and 1000, inclusive'],
    ['negative minInstances', { runtime: 'node', handler: 'a.b', code, minInstances: -1 }, 'spec.minInstances: Invalid value: -1'],
    ['maxInstances over 1000', { runtime: 'node', handler: 'a.b', code, maxInstances: 1001 }, 'spec.maxInstances: Invalid value: 1001: must be between 1 and 1000, inclusive'],
    ['maxInstances below minInstances', { runtime: 'node', handler: 'a.b', code, minInstances: 5, maxInstances: 3 }, 'spec.maxInstances: Invalid value: 3: must be greater than or equal to minInstances (5)'],
    ['minInstances above the default max', { runtime: 'node', handler: 'a.b', code, minInstances: 11 }, 'spec.maxInstances: Invalid value: 10: must be greater than or equal to minInstances (11)'],
    ['idleSeconds 0', { runtime: 'node', handler: 'a.b', code, idleSeconds: 0 }, 'spec.idleSeconds: Invalid value: 0: must be greater than or equal to 1'],
    ['an unknown field', { runtime: 'node', handler: 'a.b', code, replicas: 3 }, 'unknown field "spec.replicas"'],
    ['an unknown code field', { runtime: 'node', handler: 'a.b', code: { ...code, zip: true } }, 'unknown field "spec.code.zip"'],
    ['a bad env name', { runtime: 'node', handler: 'a.b', code, env: [{ name: '1X', value: 'v' }] }, 'spec.env[0].name: Invalid value: "1X"'],
    ['an env with a fieldRef', { runtime: 'node', handler: 'a.b', code, env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] },
      'unknown field "spec.env[0].valueFrom.fieldRef"'],
    ['an env with value and valueFrom', { runtime: 'node', handler: 'a.b', code, env: [{ name: 'N', value: 'v', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
      'spec.env[0].valueFrom: may not be specified when `value` is not empty'],
    ['an env valueFrom with neither', { runtime: 'node', handler: 'a.b', code, env: [{ name: 'N', valueFrom: {} }] },
      'spec.env[0].valueFrom: must specify exactly one of: configMapKeyRef or secretKeyRef'],
    ['a bad resource', { runtime: 'node', handler: 'a.b', code, resources: { limits: { cpu: 'lots' } } }, 'spec.resources.limits.cpu'],
  ])('refuses %s, naming the field', (_what, spec, message) => {
    expect(refused(spec)).toContain(message);
  });

  it.each([
    ['mk.io/panic-window-percentage', '0.5', 'must be a number of percent between 1 and 100, inclusive'],
    ['mk.io/panic-window-percentage', 'ten', 'Invalid value: "ten"'],
    ['mk.io/panic-threshold-percentage', '100', 'must be a number of percent between 110 and 1000, inclusive'],
    ['mk.io/panic-threshold-percentage', '', 'Invalid value: ""'],
    ['mk.io/scale-down-window', '-1', 'must be a number of seconds between 0 and 3600, inclusive'],
    ['mk.io/scale-down-window', '60s', 'Invalid value: "60s"'],
  ])('refuses the scaling annotation %s: %j', (key, value, message) => {
    let text = '';
    try {
      validateManifest({ ...fn({ runtime: 'node', handler: 'a.b', code }), metadata: { name: 'add', annotations: { [key]: value } } });
    } catch (err) { text = (err as Error).message; }
    expect(text).toContain(`metadata.annotations`);
    expect(text).toContain(key);
    expect(text).toContain(message);
  });

  it('accepts scaling annotations within their bounds, and reads them', () => {
    const annotations = { 'mk.io/scale-down-window': '30', 'mk.io/panic-window-percentage': '20.5', 'mk.io/panic-threshold-percentage': '110' };
    const ok = validateManifest({ ...fn({ runtime: 'node', handler: 'a.b', code }), metadata: { name: 'add', annotations } }).object as unknown as FunctionObject;
    expect(scalingSettings(ok.metadata.annotations)).toEqual({ windowMs: 30_000, panicWindowMs: 6_150, panicThreshold: 1.1 });
    // Knative's defaults when absent: 60 s, a panic window of 10 % (6 s), 200 %.
    expect(scalingSettings(undefined)).toEqual({ windowMs: 60_000, panicWindowMs: 6_000, panicThreshold: 2 });
    // A value out of bounds (stored before admission checked it) counts as absent.
    expect(scalingSettings({ 'mk.io/panic-threshold-percentage': '50' }).panicThreshold).toBe(2);
  });

  it('is served as functions, fn and Function of mk.io/v1, namespaced', () => {
    for (const name of ['functions', 'function', 'fn', 'Function']) expect(resolveKind(name)).toBe(FunctionKind);
    expect(FunctionKind).toMatchObject({ apiVersion: 'mk.io/v1', namespaced: true, storage: 'store' });
  });
});

describe('mk get functions columns', () => {
  const cells = (o: unknown, wide = false) => Object.fromEntries(FunctionKind.columns
    .filter((c) => wide || !c.priority).map((c) => [c.name, c.value(o as FunctionObject as never, Date.parse('2026-01-01T00:10:00Z'))]));
  const stored = { ...fn({ runtime: 'python3', handler: 'add.handler', code, timeoutSeconds: 30, minInstances: 1, maxInstances: 4 }), metadata: { name: 'add', creationTimestamp: '2026-01-01T00:00:00Z' } };

  it('shows NAME RUNTIME HANDLER READY MIN MAX AGE, 0/0 ready without a status', () => {
    expect(cells(stored)).toEqual({ NAME: 'add', RUNTIME: 'python3', HANDLER: 'add.handler', READY: '0/0', MIN: '1', MAX: '4', AGE: '10m' });
    expect(cells({ ...stored, status: { instances: 3, readyInstances: 2 } }).READY).toBe('2/3');
    expect(cells({ ...stored, spec: { ...stored.spec, handler: undefined, command: 'python add.py' } }).HANDLER).toBe('python add.py');
  });

  it('adds the short digest and the timeout with -o wide', () => {
    expect(cells(stored, true)).toMatchObject({ CODE: 'abababababab', TIMEOUT: '30s' });
  });

  it('describes a function in kubectl\'s layout', () => {
    const text = FunctionKind.describer!.describe({ ...stored, metadata: { ...stored.metadata, namespace: 'default' } } as never, { related: [], events: [], now: 0 });
    expect(text).toMatch(/^Name:\s+add$/m);
    expect(text).toMatch(/^Runtime:\s+python3$/m);
    expect(text).toMatch(/^Handler:\s+add\.handler$/m);
    expect(text).toMatch(new RegExp(`^  Digest:\\s+${digest}$`, 'm'));
    expect(text).toMatch(/^Instances:\s+1 min \| 4 max \| 0 current \| 0 ready$/m);
    expect(text).toMatch(/^Timeout:\s+30s$/m);
    expect(text).toMatch(/^Scale-Down Window:\s+60s \(panic window 6s, panic threshold 200%\)$/m);
  });

  it('describes panic mode from the Scaling condition', () => {
    const panicking = {
      ...stored, metadata: { ...stored.metadata, namespace: 'default', annotations: { 'mk.io/scale-down-window': '10', 'mk.io/panic-threshold-percentage': '300' } },
      status: { conditions: [{ type: 'Scaling', status: 'True', reason: 'Panic', lastTransitionTime: '2026-01-01T00:09:00Z' }] },
    };
    const text = FunctionKind.describer!.describe(panicking as never, { related: [], events: [], now: 0 });
    expect(text).toMatch(/^Scale-Down Window:\s+10s \(panic window 1s, panic threshold 300%\)$/m);
    expect(text).toMatch(/^Scaling Mode:\s+Panic since 2026-01-01T00:09:00Z$/m);
    expect(text).toMatch(/^\s+Scaling\s+True\s+Panic$/m);
    const calm = { ...panicking, status: { conditions: [{ type: 'Scaling', status: 'False', reason: 'Stable' }] } };
    expect(FunctionKind.describer!.describe(calm as never, { related: [], events: [], now: 0 })).toMatch(/^Scaling Mode:\s+Stable$/m);
  });
});
