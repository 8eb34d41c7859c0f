// Lint with type information (typescript-eslint's type-checked rules) over the server, the add-on stand-in, the
// benchmark, the soak test and the tests. Formatting is prettier's job (.prettierrc.json), not the linter's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'src/config/options-validator.ts',
      'dist/**',
      'dist-*/**',
      'node_modules/**',
      'coverage/**',
      'test-artifacts/**',
      'data/**',
      'tests/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Unused arguments are allowed when named _like _this (Express error handlers need four).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Express 5 awaits async handlers and routes their rejections to the error handler.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
    },
  },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  // jest.config.js is CommonJS (package.json has no "type"): module and require are its globals.
  { files: ['jest.config.js', '**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  {
    files: ['rootfs/**/*.js', 'rootfs/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly' } },
  },
  // The peer benchmark (bench/peer, npm run bench:peer): plain Node scripts. The .mjs files are ES modules.
  {
    files: ['bench/peer/**/*.js', 'bench/peer/**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        fetch: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        AbortSignal: 'readonly',
      },
    },
  },
  // run.js is CommonJS (bench/peer/package.json has no "type"; sourceType 'commonjs' defines require and module):
  // require is how it loads modules, the compiled bench's included, so no-require-imports does not apply to it.
  {
    files: ['bench/peer/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
