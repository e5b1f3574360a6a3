#!/usr/bin/env node
// The `mk` command. `mk get` and `mk describe` take a fast path that never loads oclif
// (dist/cli/fast-path.js: oclif's own start-up costs more than node's); everything else, and any
// command line the fast path declines, goes to oclif over the compiled commands in
// dist/cli/commands.
const run = require('../dist/cli/fast-path.js').fastCommand(process.argv.slice(2));
if (run) {
  // As oclif does: success ends when nothing is left to do, a failure exits at once.
  run().then((code) => { if (code !== 0) process.exit(code); });
} else {
  require('@oclif/core').execute({ dir: __dirname }).catch(require('@oclif/core/handle'));
}
