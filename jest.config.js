/** Three tiers (the house style): unit beside pure code, int beside adapters, e2e in test/. */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};
// The client SDK imports with .js extensions (it also builds as ES modules for browsers).
const moduleNameMapper = { '^@chat/(.*)$': '<rootDir>/libs/$1/src', '^(\\.{1,2}/.*)\\.js$': '$1' };
const common = { rootDir: __dirname, transform, moduleNameMapper, testEnvironment: 'node' };

module.exports = {
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.unit.spec.ts'] },
    { ...common, displayName: 'int', testMatch: ['<rootDir>/{apps,libs}/**/*.int.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
    // Faults on private NATS, Postgres and Redis instances the tests start (test/support/private-*.ts).
    { ...common, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'] },
    // The cluster on test hosts of its own (network namespaces), partitions between them: minutes (npm run test:partitions).
    { ...common, displayName: 'partitions', testMatch: ['<rootDir>/test/partitions/**/*.partition-spec.ts'] },
  ],
};
