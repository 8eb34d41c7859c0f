/**
 * The server validates options.json with ajv code generated from options-schema.ts ahead of time
 * (src/config/options-validator.ts): it must be exactly what ajv generates from the schema today.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { OPTIONS_VALIDATOR_FILE, optionsValidatorSource } from '../helpers/options-validator-source';

describe('the generated options validator', () => {
  it('is in step with options-schema.ts', () => {
    const expected = optionsValidatorSource();
    // `npm run generate:options-validator` sets this to rewrite the file instead of comparing.
    if (process.env.WRITE_OPTIONS_VALIDATOR === '1') writeFileSync(OPTIONS_VALIDATOR_FILE, expected);
    // Compared as a boolean, so a failure prints the fix instead of two 30 KB strings.
    const inStep = readFileSync(OPTIONS_VALIDATOR_FILE, 'utf8') === expected;
    if (!inStep)
      throw new Error(
        `${OPTIONS_VALIDATOR_FILE} is out of step with src/config/options-schema.ts: run \`npm run generate:options-validator\` and commit the result`,
      );
    expect(inStep).toBe(true);
  });
});
