const { writeSync } = require('node:fs');

/**
 * Prints one plain closing line, `tests: N passed, N failed`, that any CI can read,
 * whatever it knows of Jest's own summary. Written at exit so that it is the last line.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`;
    process.once('exit', () => writeSync(2, `\n${line}\n`));
  }
}
module.exports = SummaryReporter;
