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
  moduleFileExtensions: ['ts', 'js', 'json'],
  rootDir: __dirname,
};
const SYSTEM = ['<rootDir>/test/e2e/**/*.test.ts', '<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/chaos/chaos.test.ts'];

module.exports = {
  projects: [
    { ...shared, displayName: 'system', testMatch: SYSTEM, runner: '<rootDir>/scripts/jest-serial-runner.js' },
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/e2e/', '/test/integration/', '/test/chaos/chaos\\.test\\.ts$'],
    },
  ],
};
