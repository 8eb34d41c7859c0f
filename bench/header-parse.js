'use strict';
/**
 * npm run bench (first step): the cost of parsing hostile Authorization headers with the built parser
 * (dist/oauth/basic-auth.js), next to the backtracking expression it replaced (issue #12, finding 1). Prints
 * figures; asserts nothing (tests/security/basic-header.test.ts checks linearity by ratios).
 */
const path = require('node:path');
const { parseBasicAuthorization } = require(path.join(process.env.BENCH_DIST || path.join(__dirname, '..', 'dist'), 'oauth', 'basic-auth.js'));

const OLD = /^Basic[ ]+([A-Za-z0-9+/=._~-]*)\s*$/i;
const b64 = (s) => Buffer.from(s).toString('base64');

/** Median µs per call over `rounds` rounds of `n` calls. */
function measure(fn, n, rounds = 7) {
  for (let i = 0; i < n; i++) fn(); // warm-up
  const per = [];
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    per.push(Number(process.hrtime.bigint() - t) / n / 1000);
  }
  return per.sort((a, b) => a - b)[Math.floor(rounds / 2)];
}

const cases = [
  ['Basic + 16 000 spaces + "!" (16 KB)', `Basic${' '.repeat(16_000)}!`],
  ['Basic + 4 000 spaces + "!" (at the cap)', `Basic${' '.repeat(4_000)}!`],
  ['Basic <4 KB of base64>', `Basic ${'A'.repeat(4_088)}`],
  ['Alexa\'s header (amazon-alexa:<secret>)', `Basic ${b64('amazon-alexa:alexa-console-secret-0123456789abcdef')}`],
];

const rows = cases.map(([name, header]) => {
  const now = measure(() => parseBasicAuthorization(header), 20_000);
  const old = measure(() => OLD.exec(header), header.length > 1000 ? 1 : 20_000, header.length > 1000 ? 3 : 7);
  return { name, bytes: header.length, now, old };
});
const w = Math.max(...rows.map((r) => r.name.length));
console.log(`${'Authorization header'.padEnd(w)}  ${'bytes'.padStart(6)}  ${'parser µs'.padStart(10)}  ${'old regex µs'.padStart(13)}`);
for (const r of rows) console.log(`${r.name.padEnd(w)}  ${String(r.bytes).padStart(6)}  ${r.now.toFixed(2).padStart(10)}  ${r.old.toFixed(2).padStart(13)}`);
