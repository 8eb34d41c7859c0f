/**
 * Every failure kind the server can record has its own plain-words explanation and fix: the kinds are collected
 * from the source itself (the third argument of each OAuth error, and each `kind:` of a trace entry), so a new
 * failure added without an explanation fails here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { EXPLAINED_KINDS, explain } from '../../src/ops/explain';

const SRC = path.join(__dirname, '..', '..', 'src');
const ERROR_CLASSES = new Set([
  'InvalidRequest', 'InvalidClient', 'InvalidGrant', 'UnauthorizedClient', 'UnsupportedGrantType', 'InvalidScope', 'AccessDenied',
  'UnsupportedResponseType', 'ServerError', 'TemporarilyUnavailable',
]);
/** `kind` also names token and caller kinds (records, not failures). */
const NOT_FAILURES = new Set(['access', 'refresh', 'client', 'resource_server', 'other']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    // store/ never records trace entries (its `kind` is a database fault); admin/ and cli/ are the explainers.
    if (statSync(full).isDirectory()) return ['admin', 'cli', 'store'].includes(name) ? [] : files(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

function stringsIn(node: ts.Node): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isConditionalExpression(node)) return [...stringsIn(node.whenTrue), ...stringsIn(node.whenFalse)];
  if (ts.isParenthesizedExpression(node)) return stringsIn(node.expression);
  return [];
}

function failureKinds(): Map<string, string> {
  const kinds = new Map<string, string>();
  for (const file of files(SRC)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node) => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && ERROR_CLASSES.has(node.expression.text) && node.arguments && node.arguments[2]) {
        for (const k of stringsIn(node.arguments[2])) kinds.set(k, path.relative(SRC, file));
      }
      if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'kind') {
        for (const k of stringsIn(node.initializer)) if (!NOT_FAILURES.has(k)) kinds.set(k, path.relative(SRC, file));
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return kinds;
}

it('finds the failure kinds of the seed guide in the source (the scan works)', () => {
  const kinds = failureKinds();
  for (const k of ['redirect_uri_mismatch', 'pkce_mismatch', 'code_expired', 'unknown_client', 'client_secret_mismatch', 'client_secret_missing', 'public_client_secret', 'code_replay', 'refresh_reuse', 'rate_limited']) {
    expect({ k, found: kinds.has(k) }).toEqual({ k, found: true });
  }
});

it('explains every failure kind the server records', () => {
  const missing = [...failureKinds()].filter(([k]) => !EXPLAINED_KINDS.includes(k)).map(([k, file]) => `${k} (${file})`);
  expect(missing).toEqual([]);
});

it('falls back to the recorded cause for a kind it does not know', () => {
  const x = explain({ step: 'token', outcome: 'error', kind: 'brand_new_kind', error: 'invalid_request', cause: 'the precise cause' });
  expect(x).toMatchObject({ problem: 'the precise cause', severity: 'error' });
  expect(explain({ step: 'token', outcome: 'ok' })).toBeUndefined();
});
