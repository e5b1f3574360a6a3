/**
 * The closing line of .ci/run (`tests: N passed, N failed, N skipped`) against hand-made Jest JSON
 * results shaped like Jest 30's --json output: scripts/ci-summary.js on its own, then .ci/run
 * whole with a fake install script and a fake `npm` (both fakes, written here) on its PATH.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from '../helpers/run';

const ROOT = path.resolve(__dirname, '..', '..');

type Status = 'passed' | 'failed' | 'pending' | 'todo';
interface Suite { file: string; status: 'passed' | 'failed' | 'skipped' | 'focused'; tests: Status[]; message?: string }

/** A Jest --json result for `suites`, with the totals Jest would write; paths under `root`. */
function jestResult(root: string, suites: Suite[]): object {
  const all = suites.flatMap((s) => s.tests);
  const failedSuites = suites.filter((s) => s.status === 'failed').length;
  return {
    numFailedTestSuites: failedSuites,
    numFailedTests: all.filter((t) => t === 'failed').length,
    numPassedTestSuites: suites.filter((s) => s.status === 'passed').length,
    numPassedTests: all.filter((t) => t === 'passed').length,
    numPendingTestSuites: suites.filter((s) => s.status === 'skipped').length,
    numPendingTests: all.filter((t) => t === 'pending').length,
    numRuntimeErrorTestSuites: suites.filter((s) => s.status === 'failed' && !s.tests.includes('failed')).length,
    numTodoTests: all.filter((t) => t === 'todo').length,
    numTotalTestSuites: suites.length,
    numTotalTests: all.length,
    openHandles: [],
    startTime: 0,
    success: failedSuites === 0,
    wasInterrupted: false,
    testResults: suites.map((s) => ({
      name: path.join(root, s.file),
      status: s.status,
      message: s.message ?? '',
      assertionResults: s.tests.map((status, i) => ({
        title: `t${i}`, fullName: `${s.file} t${i}`, status,
        failureMessages: status === 'failed'
          ? [`\u001b[31mError: t${i} broke\u001b[39m\n    at until (test/helpers/wait.ts:14:38)\n    at Object.<anonymous> (${s.file}:1${i}:3)`] : [],
      })),
    })),
  };
}

const NORMAL: Suite[] = [
  { file: 'test/unit/a.test.ts', status: 'passed', tests: ['passed', 'passed'] },
  { file: 'test/e2e/runtime/b.test.ts', status: 'passed', tests: ['passed'] },
];
// What Jest 30 writes when afterAll throws: every test passed, the suite failed to run.
const AFTER_ALL: Suite[] = [
  { file: 'test/unit/a.test.ts', status: 'passed', tests: ['passed'] },
  { file: 'test/integration/c.test.ts', status: 'failed', tests: ['passed', 'passed'], message: '\n\n  ● Test suite failed to run\n\n    boom in afterAll\n' },
];
const E2E_SKIP: Suite[] = [
  { file: 'test/unit/a.test.ts', status: 'focused', tests: ['passed', 'pending'] },
  { file: 'test/e2e/cluster/cluster.test.ts', status: 'skipped', tests: ['pending', 'pending'] },
  { file: 'test/chaos/d.test.ts', status: 'focused', tests: ['passed', 'todo'] },
];

describe('scripts/ci-summary.js', () => {
  let dir: string;
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-ci-line-')); });
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  const summary = async (result: object | string | undefined, jestExit: number, asRoot = false) => {
    const args = ['--jest-exit', String(jestExit), ...(asRoot ? ['--as-root'] : [])];
    if (result !== undefined) {
      const file = path.join(dir, `r-${Math.random().toString(36).slice(2)}.json`);
      fs.writeFileSync(file, typeof result === 'string' ? result : JSON.stringify(result));
      args.push('--result', file);
    }
    const r = await runCommand([process.execPath, path.join(ROOT, 'scripts', 'ci-summary.js'), ...args]);
    return { code: r.code, line: r.stdout.trimEnd().split('\n').pop(), stdout: r.stdout, stderr: r.stderr };
  };

  it('counts a normal run and exits 0', async () => {
    expect(await summary(jestResult(ROOT, NORMAL), 0, true)).toMatchObject({ code: 0, stdout: 'tests: 3 passed, 0 failed, 0 skipped\n', stderr: '' });
  });

  it('counts a suite that failed in afterAll as a failure though all its tests passed', async () => {
    const r = await summary(jestResult(ROOT, AFTER_ALL), 1);
    expect(r).toMatchObject({ code: 1, line: 'tests: 3 passed, 1 failed, 0 skipped' });
    expect(r.stderr).toContain('test/integration/c.test.ts (boom in afterAll)');
  });

  it('counts a suite that did not load (no tests at all) as a failure', async () => {
    const r = await summary(jestResult(ROOT, [...NORMAL, { file: 'test/unit/broken.test.ts', status: 'failed', tests: [], message: 'Cannot find module' }]), 1);
    expect(r).toMatchObject({ code: 1, line: 'tests: 3 passed, 1 failed, 0 skipped' });
  });

  it('counts failed tests one by one, not once per suite', async () => {
    const r = await summary(jestResult(ROOT, [{ file: 'test/unit/a.test.ts', status: 'failed', tests: ['failed', 'passed', 'failed'] }]), 1);
    expect(r).toMatchObject({ code: 1, line: 'tests: 1 passed, 2 failed, 0 skipped' });
  });

  it('names each failed test, with its first message line and place, before the line', async () => {
    const r = await summary(jestResult(ROOT, [{ file: 'test/unit/a.test.ts', status: 'failed', tests: ['failed', 'passed', 'failed'] }]), 1);
    expect(r.stderr).toContain('failed: test/unit/a.test.ts › test/unit/a.test.ts t0: Error: t0 broke at Object.<anonymous> (test/unit/a.test.ts:10:3)\n');
    expect(r.stderr).toContain('failed: test/unit/a.test.ts › test/unit/a.test.ts t2: Error: t2 broke');
    expect(r.stderr).not.toContain('\u001b[');
  });

  it('prints how the first few failed tests failed (the diff, no stack, no code excerpt), at most three', async () => {
    const diff = '\u001b[31mError: expect(received).toEqual(expected) // deep equality\n\n- Expected  - 1\n+ Received  + 3\n\n  Object {\n-   "failures": Array [],\n+   "failures": Array [\n+     "replicas: rs-1 has 2 active pods",\n+   ],\n  }\u001b[39m\n\n    \u001b[0m \u001b[90m 105 |\u001b[39m     expect(x)\n     \u001b[90m     |\u001b[39m ^\n    at Object.toEqual (test/chaos/chaos.test.ts:106:61)';
    const result = jestResult(ROOT, [{ file: 'test/chaos/c.test.ts', status: 'failed', tests: ['failed', 'failed', 'failed', 'failed'] }]) as { testResults: { assertionResults: { failureMessages: string[] }[] }[] };
    for (const t of result.testResults[0].assertionResults) t.failureMessages = [diff];
    const r = await summary(result, 1);
    expect(r.line).toBe('tests: 0 passed, 4 failed, 0 skipped');
    expect(r.stderr).toContain('ci-summary: how it failed: test/chaos/c.test.ts › test/chaos/c.test.ts t0\n  | Error: expect(received).toEqual(expected) // deep equality\n');
    expect(r.stderr).toContain('\n  | +     "replicas: rs-1 has 2 active pods",\n');
    expect(r.stderr.match(/how it failed/g)).toHaveLength(3);
    expect(r.stderr).not.toMatch(/\| \s*at Object|105 \|/);
    expect(r.stderr).not.toContain('\u001b[');
    // The one-line names come after the details, last before the line.
    expect(r.stderr.lastIndexOf('how it failed')).toBeLessThan(r.stderr.indexOf('ci-summary: failed: test/chaos/c.test.ts'));
  });

  it('as root, counts skipped e2e and chaos tests as failures; other skips stay skips', async () => {
    const r = await summary(jestResult(ROOT, E2E_SKIP), 0, true);
    expect(r).toMatchObject({ code: 1, line: 'tests: 2 passed, 3 failed, 1 skipped' });
    expect(r.stderr).toContain('skipped as root: test/e2e/cluster/cluster.test.ts');
    expect(r.stderr).toContain('skipped as root: test/chaos/d.test.ts');
  });

  it('not as root, counts skipped e2e tests as skipped and exits 0', async () => {
    expect(await summary(jestResult(ROOT, E2E_SKIP), 0, false)).toMatchObject({ code: 0, line: 'tests: 2 passed, 0 failed, 4 skipped' });
  });

  it('counts a crash that left no JSON (empty, missing or truncated result) as one failure', async () => {
    for (const result of ['', '{"numTotalTests": 3, "testResults": [', undefined]) {
      expect(await summary(result, 1)).toMatchObject({ code: 1, line: 'tests: 0 passed, 1 failed, 0 skipped' });
    }
  });

  it('counts a non-zero exit, an unsuccessful or an interrupted run as a failure even when no test failed', async () => {
    const ok = jestResult(ROOT, NORMAL);
    expect(await summary(ok, 1)).toMatchObject({ code: 1, line: 'tests: 3 passed, 1 failed, 0 skipped' });
    expect(await summary({ ...ok, success: false }, 0)).toMatchObject({ code: 1, line: 'tests: 3 passed, 1 failed, 0 skipped' });
    expect(await summary({ ...ok, wasInterrupted: true }, 0)).toMatchObject({ code: 1, line: 'tests: 3 passed, 1 failed, 0 skipped' });
  });
});

describe('.ci/run', () => {
  let dir: string;
  beforeAll(() => {
    // A repository-shaped directory: the real .ci/run and summary script, a fake install script,
    // and a fake npm that writes the Jest result it is given and exits with the code it is given.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-ci-run-'));
    for (const rel of ['.ci/run', 'scripts/ci-summary.js']) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, rel), path.join(dir, rel));
    }
    fs.writeFileSync(path.join(dir, 'scripts', 'install.sh'), '#!/usr/bin/env bash\nexit "${FAKE_INSTALL_EXIT:-0}"\n', { mode: 0o755 });
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'bin', 'npm'), [
      '#!/usr/bin/env bash',
      'if [ -n "${FAKE_JEST_HANG:-}" ]; then echo $$ > "$FAKE_JEST_HANG"; exec sleep 600; fi',
      'for a in "$@"; do case "$a" in --outputFile=*) out="${a#--outputFile=}";; esac; done',
      'if [ -n "${FAKE_JEST_JSON:-}" ]; then cp "$FAKE_JEST_JSON" "$out"; fi',
      'exit "${FAKE_JEST_EXIT:-0}"',
      '',
    ].join('\n'), { mode: 0o755 });
  });
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  const ciRun = (env: Record<string, string>) => runCommand([path.join(dir, '.ci', 'run')], {
    env: { ...process.env, PATH: `${path.join(dir, 'bin')}:${path.dirname(process.execPath)}:${process.env.PATH}`, ...env },
  });
  const resultFile = (name: string, suites: Suite[]): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, JSON.stringify(jestResult(dir, suites)));
    return f;
  };

  it('ends with the line and exits 0 for a normal run', async () => {
    const r = await ciRun({ FAKE_JEST_JSON: resultFile('normal.json', NORMAL) });
    expect(r.stdout.split('\n').slice(-2)).toEqual(['tests: 3 passed, 0 failed, 0 skipped', '']);
    expect(r.code).toBe(0);
  });

  it('exits non-zero with the failure in the line when a suite failed in afterAll', async () => {
    const r = await ciRun({ FAKE_JEST_JSON: resultFile('after-all.json', AFTER_ALL), FAKE_JEST_EXIT: '1' });
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('tests: 3 passed, 1 failed, 0 skipped');
    expect(r.code).toBe(1);
  });

  it('still prints the line, and fails, when Jest crashes without a result or install fails', async () => {
    const crash = await ciRun({ FAKE_JEST_EXIT: '134' });
    expect(crash.stdout.trimEnd().split('\n').pop()).toBe('tests: 0 passed, 1 failed, 0 skipped');
    expect(crash.code).toBe(1);
    const install = await ciRun({ FAKE_INSTALL_EXIT: '100', FAKE_JEST_JSON: resultFile('unused.json', NORMAL) });
    expect(install.stdout.trimEnd().split('\n').pop()).toBe('tests: 0 passed, 1 failed, 0 skipped');
    expect(install.code).toBe(1);
  });

  it('still prints the line, and fails, when Jest hangs past the deadline', async () => {
    const pidFile = path.join(dir, 'hung.pid');
    try {
      const r = await ciRun({ FAKE_JEST_HANG: pidFile, MK_CI_TEST_TIMEOUT: '1s' });
      expect(r.stdout.trimEnd().split('\n').pop()).toBe('tests: 0 passed, 1 failed, 0 skipped');
      expect(r.stderr).toContain('did not finish within 1s');
      expect(r.code).toBe(1);
    } finally {
      // The hung fake is .ci/run's to kill; should it not have, this test does.
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      const cmd = ((): string => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; } })();
      if (cmd === 'sleep\u0000600\u0000') process.kill(pid, 'SIGKILL');
    }
  });

  it('still prints a failing line when the summary script itself breaks', async () => {
    const script = path.join(dir, 'scripts', 'ci-summary.js');
    fs.writeFileSync(script, 'console.log("tests: 9 passed, 0 failed, 0 skipped");\nthrow new Error("broken");\n');
    try {
      // It prints a clean line, then dies: the line is not believed.
      const r = await ciRun({ FAKE_JEST_JSON: resultFile('normal2.json', NORMAL) });
      expect(r.stdout.trimEnd().split('\n').pop()).toBe('tests: 0 passed, 1 failed, 0 skipped');
      expect(r.code).toBe(1);
    } finally {
      fs.copyFileSync(path.join(ROOT, 'scripts', 'ci-summary.js'), script);
    }
  });
});
