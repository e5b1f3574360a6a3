// The layer rule of docs/architecture.md, checked on every test run (test/unit/layers.test.ts):
//   cli -> embedded -> {actors, node-agent, dashboard} -> bus -> {common, messages}; common -> messages.
// actors/, node-agent/ and dashboard/ never import each other (the dashboard's server reads the
// cluster through the bus like any client; its browser code in dashboard/web imports nothing of ours); messages/ imports nothing of ours; no
// production code imports test code.
const layers = {
  messages: [],
  common: ['messages'],
  bus: ['messages', 'common'],
  actors: ['messages', 'common', 'bus'],
  'node-agent': ['messages', 'common', 'bus'],
  dashboard: ['messages', 'common', 'bus'],
  embedded: ['messages', 'common', 'bus', 'actors', 'node-agent', 'dashboard'],
  cli: ['messages', 'common', 'bus', 'embedded'],
};
const all = Object.keys(layers);

module.exports = {
  forbidden: [
    ...Object.entries(layers).map(([layer, below]) => ({
      name: `layer-${layer}`,
      comment: `${layer}/ may import only ${below.length ? below.join(', ') : 'nothing of ours'} (and itself)`,
      severity: 'error',
      from: { path: `^${layer}/` },
      to: { path: `^(${all.filter((l) => l !== layer && !below.includes(l)).join('|')}|test|scripts)/` },
    })),
    {
      name: 'no-circular',
      comment: 'a cycle between modules hides which one is the lower layer',
      severity: 'error',
      from: { path: `^(${all.join('|')})/` },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
