#!/usr/bin/env node
// The closing line of .ci/run, `tests: N passed, N failed, N skipped`, from Jest's --json result.
//
//   node scripts/ci-summary.js --result FILE --jest-exit CODE [--as-root]
//
// The line may never look better than the run was:
// - a suite Jest marks failed counts as one failure even when every test in it passed (an error in
//   afterAll, or a suite that did not load);
// - a skipped, pending or todo test is counted as skipped, except under test/e2e/ or test/chaos/
//   when run as root: root has everything those suites need, so a skip there is a broken
//   precondition and counts as a failure;
// - no readable result (Jest crashed, the build before it failed), a result Jest itself calls
//   unsuccessful or interrupted, or a non-zero exit with nothing else failed, is one failure.
// It names each failed test with the gist of its failure (the first few also with the whole
// message, Jest's diff included) and explains every failure it adds on
// stderr, prints the line on stdout as its last output, and
// exits 1 when the line shows a failure, 0 otherwise. Plain Node.js, no dependencies: it must run
// even when `npm ci` or the build did not.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
// Where a skip is a broken precondition when root runs the suite.
const ROOT_MUST_RUN = ['test/e2e/', 'test/chaos/'];
// At most this many failed tests are named, each in one line, so the end of the log says what failed.
const MAX_NAMED_FAILURES = 40;
// The first failures also get their message (Jest's diff) printed whole, up to this much each, so
// the end of the log also says how they failed.
const MAX_DETAILED_FAILURES = 3;
const MAX_DETAIL_LINES = 50;
const MAX_DETAIL_CHARS = 2500;

/** A failed test's first failure message, ANSI colours removed. */
function firstMessage(messages) {
  return String((Array.isArray(messages) ? messages[0] : messages) ?? '').replace(/\u001b\[[0-9;]*m/g, '');
}

/**
 * One line about a failed test's first failure message: its first line, and the first place in a
 * test file it points at (the suite's own file first), ANSI colours removed, at most 400 characters.
 */
function failureGist(messages, file) {
  const lines = firstMessage(messages).split('\n').map((l) => l.trim()).filter(Boolean);
  const first = lines[0] ?? '';
  const frames = lines.filter((l) => l.startsWith('at ') && !/node_modules/.test(l));
  const at = frames.find((l) => l.includes(file)) ?? frames.find((l) => /test\//.test(l));
  const gist = at ? `${first} ${at}` : first;
  return gist.length > 400 ? `${gist.slice(0, 399)}…` : gist;
}

/**
 * A failed test's first failure message as it reads (the assertion and Jest's diff), without
 * colours, stack frames, the code excerpt Jest shows, or more than MAX_DETAIL_LINES lines.
 */
function failureDetail(messages) {
  const lines = firstMessage(messages).split('\n').filter((l) => l.trim() && !/^\s*at /.test(l) && !/^\s*>?\s*\d+ \|/.test(l) && !/^\s*\|\s*\^/.test(l));
  let out = lines.slice(0, MAX_DETAIL_LINES).join('\n');
  if (lines.length > MAX_DETAIL_LINES) out += `\n… ${lines.length - MAX_DETAIL_LINES} more line(s)`;
  return out.length > MAX_DETAIL_CHARS ? `${out.slice(0, MAX_DETAIL_CHARS - 1)}…` : out;
}

/**
 * Counts a parsed Jest JSON result (or undefined when there was none). `jestExit` is Jest's exit
 * code, `asRoot` whether the run was root's, `repoRoot` what test paths are relative to. Returns the
 * three counts and the reasons for failures that are not plain failed tests. Never throws.
 */
function summarize(result, { jestExit, asRoot, repoRoot = REPO_ROOT }) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const notes = [];
  const details = [];
  if (!result || typeof result !== 'object' || !Array.isArray(result.testResults)) {
    notes.push(`no Jest result to read (exit code ${jestExit}): counted as one failure`);
    counts.failed = 1;
    return { ...counts, notes, details };
  }
  for (const suite of result.testResults) {
    const file = path.relative(repoRoot, String(suite.name ?? '')).split(path.sep).join('/');
    const mustRun = asRoot && ROOT_MUST_RUN.some((dir) => file.startsWith(dir));
    let failedHere = 0;
    for (const t of Array.isArray(suite.assertionResults) ? suite.assertionResults : []) {
      if (t.status === 'passed') counts.passed++;
      else if (t.status === 'failed') {
        failedHere++;
        if (counts.failed + failedHere <= MAX_NAMED_FAILURES) notes.push(`failed: ${file} › ${t.fullName ?? t.title}: ${failureGist(t.failureMessages, file)}`);
        if (counts.failed + failedHere <= MAX_DETAILED_FAILURES) details.push(`${file} › ${t.fullName ?? t.title}\n${failureDetail(t.failureMessages)}`);
      }
      else if (mustRun) {
        failedHere++;
        notes.push(`skipped as root: ${file} › ${t.fullName ?? t.title}`);
      } else counts.skipped++;
    }
    if (suite.status === 'failed' && failedHere === 0) {
      failedHere = 1;
      const first = String(suite.message ?? '').split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('●')) ?? '';
      notes.push(`suite failed with no failed test: ${file}${first ? ` (${first})` : ''}`);
    }
    counts.failed += failedHere;
  }
  if (counts.failed === 0) {
    const why = result.wasInterrupted ? 'Jest says the run was interrupted'
      : result.success === false ? 'Jest says the run did not succeed'
        : jestExit !== 0 ? `Jest exited ${jestExit}` : undefined;
    if (why) {
      notes.push(`${why}, though no test failed: counted as one failure`);
      counts.failed = 1;
    }
  }
  return { ...counts, notes, details };
}

/** The closing line itself. */
function line({ passed, failed, skipped }) {
  return `tests: ${passed} passed, ${failed} failed, ${skipped} skipped`;
}

function main(argv) {
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const jestExit = Number(arg('--jest-exit') ?? 1);
  const asRoot = argv.includes('--as-root');
  let result;
  const file = arg('--result');
  if (file !== undefined) {
    try {
      result = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      process.stderr.write(`ci-summary: cannot read Jest's result ${file}: ${err.message}\n`);
    }
  }
  const s = summarize(result, { jestExit: Number.isInteger(jestExit) ? jestExit : 1, asRoot });
  for (const d of s.details) process.stderr.write(`ci-summary: how it failed: ${d.split('\n').join('\n  | ')}\n`);
  for (const n of s.notes) process.stderr.write(`ci-summary: ${n}\n`);
  process.stdout.write(`${line(s)}\n`);
  return s.failed > 0 ? 1 : 0;
}

if (require.main === module) {
  let code = 1;
  try {
    code = main(process.argv.slice(2));
  } catch (err) {
    // A bug here must still leave an honest line.
    process.stderr.write(`ci-summary: ${err && err.stack}\n`);
    process.stdout.write(`${line({ passed: 0, failed: 1, skipped: 0 })}\n`);
  }
  process.exitCode = code;
}

module.exports = { summarize, line };
