// Jest's own runner, marked serial: Jest runs this project's suites one at a time in its own
// process (as --runInBand would), and the other projects' on its workers (jest.config.js).
'use strict';
const TestRunner = require('jest-runner').default;

class SerialRunner extends TestRunner {
  constructor(...args) {
    super(...args);
    this.isSerial = true;
  }
}

module.exports = SerialRunner;
