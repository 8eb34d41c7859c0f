/**
 * Tests run against the TypeScript sources; servers they spawn run the compiled dist/ (npm test builds first).
 * ts-jest only transpiles (tsconfig's isolatedModules): `npm test` type-checks everything with tsc before jest, once,
 * instead of a TypeScript program in every worker (~200 MB each, which made Jest report workers failing to exit).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // oauth4webapi ships only ES modules; compile it to CommonJS like our own code.
    '^.+/node_modules/oauth4webapi/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, isolatedModules: true },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!oauth4webapi/)'],
  testTimeout: 60000,
  maxWorkers: 2,
  // Each test file loads the server's modules afresh and a worker's heap keeps growing across files (to ~700 MB
  // over a run); a worker that large takes longer than Jest's 500 ms to exit at the end, which Jest reports as a
  // worker that "failed to exit gracefully". Recycling a worker past this size keeps every exit quick.
  workerIdleMemoryLimit: '300MB',
};
