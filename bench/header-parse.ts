/**
 * In-process figure (the first step of npm run bench): µs per parse of hostile and normal Authorization headers with
 * the built parser (dist/oauth/basic-auth.js), beside the backtracking expression it replaced (issue #12, finding
 * 1). tests/security/basic-header.test.ts checks linearity by ratios; this only prints figures.
 */
import type * as BasicAuthModule from '../src/oauth/basic-auth';
import { loadFromBuild } from './fill';

const OLD = /^Basic[ ]+([A-Za-z0-9+/=._~-]*)\s*$/i;
const b64 = (s: string) => Buffer.from(s).toString('base64');

export interface HeaderParseRow {
  name: string;
  bytes: number;
  /** Median µs per call of the built parser. */
  parserUs: number;
  /** Median µs per call of the expression it replaced. */
  oldRegexUs: number;
}

/** Median µs per call over `rounds` rounds of `n` calls, after `n` calls of warm-up. */
function measure(fn: () => unknown, n: number, rounds: number): number {
  for (let i = 0; i < n; i++) fn();
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    per.push(Number(process.hrtime.bigint() - t) / n / 1000);
  }
  return per.sort((a, b) => a - b)[Math.floor(rounds / 2)] ?? NaN;
}

export function headerParseFigures(): HeaderParseRow[] {
  const { parseBasicAuthorization } = loadFromBuild<typeof BasicAuthModule>('oauth/basic-auth');
  const cases: Array<[string, string]> = [
    ['Basic + 16,000 spaces + "!" (16 KB)', `Basic${' '.repeat(16_000)}!`],
    ['Basic + 4,000 spaces + "!" (at the cap)', `Basic${' '.repeat(4_000)}!`],
    ['Basic <4 KB of base64>', `Basic ${'A'.repeat(4_088)}`],
    ["Alexa's header (amazon-alexa:<secret>)", `Basic ${b64('amazon-alexa:alexa-console-secret-0123456789abcdef')}`],
  ];
  return cases.map(([name, header]) => {
    const long = header.length > 1000;
    return {
      name,
      bytes: header.length,
      parserUs: measure(() => parseBasicAuthorization(header), 20_000, 7),
      // The old expression takes up to a second per long header: one call per round.
      oldRegexUs: measure(() => OLD.exec(header), long ? 1 : 20_000, long ? 3 : 7),
    };
  });
}
