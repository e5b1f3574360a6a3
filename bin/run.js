#!/usr/bin/env node
// The `mk` command: oclif over the compiled commands in dist/cli/commands.
require('@oclif/core').execute({ dir: __dirname }).catch(require('@oclif/core/handle'));
