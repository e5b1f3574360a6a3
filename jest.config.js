/**
 * Jest: TypeScript through swc (no type-checking here; `npm run typecheck` does that), in two
 * projects. `system` (test/e2e, test/integration and the chaos rounds) runs its suites one at a
 * time: they start nats-servers, control planes, containerd and network namespaces, and time
 * what they see. `unit` (everything else: pure code and fakes) runs on every worker, before or
 * after them, never beside them: Jest runs one runner's suites at a time, and
 * scripts/jest-serial-runner.js is the runner that takes its suites one by one.
 */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  rootDir: __dirname,
};
/** The system suites, relative to the root; every other test file is a unit suite. */
const SYSTEM = ['test/e2e/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/chaos/chaos.test.ts'];

module.exports = {
  projects: [
    { ...shared, displayName: 'system', testMatch: SYSTEM.map((p) => `<rootDir>/${p}`), runner: '<rootDir>/scripts/jest-serial-runner.js' },
    { ...shared, displayName: 'unit', testMatch: ['**/*.test.ts', ...SYSTEM.map((p) => `!**/${p}`)] },
  ],
};
