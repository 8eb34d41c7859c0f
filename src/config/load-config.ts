/**
 * options.json -> Config. Every problem names the option path, what is wrong and the fix (as data: the log
 * writes each as one line, diagnose as a finding), so the operator knows exactly which field of the
 * Configuration tab to change.
 */
import { hasAlexaLinkPath, isAlexaHost } from './alexa';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Config, DEFAULTS } from './config';
import { AddonOptions, OPTION_HINTS } from './options-schema';
import { validate } from './options-validator';
import { haUsername } from './username';

/** One problem (or warning) with the options: where, what is wrong, and what to do about it. */
export interface ConfigProblem {
  /** The option as the Configuration tab names it, e.g. clients[0].client_secret; the file when the file itself is wrong. */
  option: string;
  problem: string;
  fix?: string;
}

/** A problem as one log line: "option: problem; fix". */
export function problemLine(p: ConfigProblem): string {
  return `${p.option}: ${p.problem}${p.fix ? `; ${p.fix}` : ''}`;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${problemLine(p)}`).join('\n')}`);
  }
}

export interface LoadedConfig {
  config: Config;
  warnings: ConfigProblem[];
}

// ajv's code for options-schema.ts, generated ahead of time (tests/helpers/options-validator-source.ts): loading
// ajv's compiler and compiling the schema took ~70 ms of every start and of every `oauth-admin` run.
const validateShape = validate as ValidateFunction<AddonOptions>;

/** Express's named address ranges, accepted alongside IPs and CIDRs in trusted_proxies. */
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `clients/0/client_secret` -> `clients[0].client_secret` */
function optionPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(top level)';
}

function describeAjvError(e: ErrorObject, fix: string): ConfigProblem {
  const leaf =
    e.instancePath
      .split('/')
      .filter((p) => !/^\d+$/.test(p))
      .pop() ?? '';
  const hint = OPTION_HINTS[leaf];
  const tail = hint ? `${hint}; ${fix}` : fix;
  const option = optionPath(e.instancePath);
  switch (e.keyword) {
    case 'required':
      return { option: optionPath(e.instancePath, String(e.params.missingProperty)), problem: 'required but missing', fix };
    case 'additionalProperties':
      return {
        option: optionPath(e.instancePath, String(e.params.additionalProperty)),
        problem: 'unknown option (misspelt, or from another version)',
        fix: 'remove it or correct its name',
      };
    case 'enum':
      return { option, problem: `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`, fix };
    case 'minimum':
    case 'maximum':
      return { option, problem: `must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${e.params.limit}`, fix: tail };
    case 'minLength':
      return { option, problem: `must be at least ${e.params.limit} characters`, fix: tail };
    case 'minItems':
      return { option, problem: `must list at least ${e.params.limit} entr${e.params.limit === 1 ? 'y' : 'ies'}`, fix };
    default:
      return { option, problem: String(e.message), fix: tail };
  }
}

function isTrustedProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [addr = '', bits, ...rest] = entry.split('/');
  if (rest.length > 0 || isIP(addr) === 0) return false;
  if (bits === undefined) return true;
  const max = isIP(addr) === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

function checkRedirectUri(uri: string, option: string, problems: ConfigProblem[], warnings: ConfigProblem[]): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    problems.push({
      option,
      problem: `"${uri}" is not an absolute URL`,
      fix: 'copy the exact Redirect URL from the Alexa console (Account Linking section)',
    });
    return;
  }
  if (url.hash || uri.includes('#')) {
    problems.push({ option, problem: 'a redirect URI must not contain a fragment (#)', fix: 'remove it' });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.host.replace(/:\d+$/, '')))) {
    problems.push({
      option,
      problem: `"${uri}" must use https (plain http is allowed only for localhost)`,
      fix: 'copy the https URL from the Alexa console',
    });
  }
  // Redirect URIs are compared exactly (RFC 9700 §4.1.3), and clients send them the way the URL standard writes them
  // (scheme and host in lower case, no default port, "/" for "\"): written any other way, this one would never match.
  // A URI of a bare host, which the standard writes with a trailing "/", is sent as written.
  if (uri !== url.href && `${uri}/` !== url.href) {
    warnings.push({
      option,
      problem: `clients send "${uri}" as "${url.href}": compared exactly, it would never match`,
      fix: `write it as "${url.href}"`,
    });
  }
  if (isAlexaHost(url.hostname) && !hasAlexaLinkPath(url.pathname)) {
    warnings.push({
      option,
      problem: `"${uri}" is on an Alexa host but is not of the form https://${url.hostname}/api/skill/link/<vendor id>`,
      fix: 'Alexa will not send it, copy the Redirect URLs from the Alexa console',
    });
  }
}

/** public_url as the server uses it: without the trailing slash. */
const normalPublicUrl = (raw: string): string => new URL(raw).href.replace(/\/+$/, '');

function checkPublicUrl(raw: string, problems: ConfigProblem[], warnings: ConfigProblem[]): void {
  const option = 'public_url';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push({
      option,
      problem: `"${raw}" is not an absolute URL`,
      fix: 'set it to the https address Alexa reaches this add-on at, e.g. https://ha.example.com',
    });
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push({ option, problem: 'must start with https://', fix: 'set it to the https address Alexa reaches this add-on at' });
    return;
  }
  if (url.search || url.hash || url.username || url.password) {
    problems.push({
      option,
      problem: 'must not contain a query, fragment or credentials',
      fix: 'set it to just the scheme, host and optional path prefix',
    });
    return;
  }
  if (url.protocol !== 'https:') {
    warnings.push({ option, problem: `"${raw}" is not https`, fix: 'Alexa accepts only https Authorization and Access Token URIs' });
  }
}

/** Each problem once (the schema and the checks beyond it may find the same one). */
function distinct(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const line = problemLine(p);
    if (seen.has(line)) return false;
    seen.add(line);
    return true;
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * The checks beyond the schema (secrets per client type, URLs, duplicates). They run whether or not the shape
 * is right, so one start-up reports every problem at once; values whose shape the schema refused are skipped.
 */
function checkOptions(options: Record<string, unknown>, fix: string): { problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];

  const seenClients = new Set<string>();
  arrayOf(options.clients).forEach((c, i) => {
    if (!isRecord(c)) return;
    const at = `clients[${i}]`;
    if (typeof c.client_id === 'string') {
      if (seenClients.has(c.client_id))
        problems.push({
          option: `${at}.client_id`,
          problem: `"${c.client_id}" is listed twice`,
          fix: 'give each client its own client_id',
        });
      seenClients.add(c.client_id);
    }
    const secret = typeof c.client_secret === 'string' && c.client_secret !== '' ? c.client_secret : undefined;
    if (c.client_type === 'confidential' && !secret) {
      problems.push({ option: `${at}.client_secret`, problem: 'required when client_type is confidential', fix });
    }
    if (c.client_type === 'public' && secret) {
      problems.push({
        option: `${at}.client_secret`,
        problem: 'a public client has no secret',
        fix: 'remove it, or set client_type to confidential (Alexa always sends a secret, so use confidential for an Alexa skill)',
      });
    }
    if (secret && secret.length < 16) {
      warnings.push({
        option: `${at}.client_secret`,
        problem: `only ${secret.length} characters`,
        fix: 'a secret of 32 random characters or more resists guessing',
      });
    }
    const seenUris = new Set<string>();
    arrayOf(c.redirect_uris).forEach((raw, j) => {
      if (typeof raw !== 'string' || raw === '') return;
      const where = `${at}.redirect_uris[${j}]`;
      // No client can send spaces around a URI (pasted from the Alexa console, they come along): matched without.
      const uri = raw.trim();
      if (uri !== raw) {
        warnings.push({
          option: where,
          problem: `"${raw}" has white space before or after it; it is matched without it`,
          fix: 'remove the spaces in the add-on Configuration tab',
        });
      }
      if (seenUris.has(uri)) warnings.push({ option: where, problem: `"${uri}" is listed twice` });
      seenUris.add(uri);
      checkRedirectUri(uri, where, problems, warnings);
    });
  });

  const seenUsers = new Set<string>();
  arrayOf(options.users).forEach((u, i) => {
    if (!isRecord(u) || typeof u.username !== 'string') return;
    if (seenUsers.has(u.username))
      problems.push({ option: `users[${i}].username`, problem: `"${u.username}" is listed twice`, fix: 'keep one entry per user' });
    seenUsers.add(u.username);
  });

  const haAllowed = new Set<string>();
  arrayOf(options.ha_allowed_users).forEach((u, i) => {
    if (typeof u !== 'string' || u === '') return;
    const name = haUsername(u);
    const option = `ha_allowed_users[${i}]`;
    if (name === '') problems.push({ option, problem: 'is only white space', fix: 'write a Home Assistant username, or remove the entry' });
    else if (haAllowed.has(name))
      warnings.push({ option, problem: `"${name}" is listed twice (Home Assistant ignores case and surrounding spaces)` });
    else haAllowed.add(name);
  });

  arrayOf(options.trusted_proxies).forEach((p, i) => {
    if (typeof p === 'string' && p !== '' && !isTrustedProxyEntry(p)) {
      problems.push({
        option: `trusted_proxies[${i}]`,
        problem: `"${p}" is not an IP address, a CIDR range (e.g. 172.30.32.0/23) or one of loopback, linklocal, uniquelocal`,
        fix: 'correct it',
      });
    }
  });

  arrayOf(options.resource_servers).forEach((r, i) => {
    if (isRecord(r) && typeof r.id === 'string' && seenClients.has(r.id)) {
      problems.push({
        option: `resource_servers[${i}].id`,
        problem: `"${r.id}" is also a client_id`,
        fix: 'give the resource server its own id',
      });
    }
  });

  if (typeof options.public_url === 'string' && options.public_url !== '') checkPublicUrl(options.public_url, problems, warnings);
  return { problems, warnings };
}

/** The Config of options that passed every check. */
function toConfig(options: AddonOptions): Config {
  return {
    publicUrl: options.public_url ? normalPublicUrl(options.public_url) : undefined,
    users: (options.users ?? []).map((u) => ({ username: u.username, password: u.password })),
    // Home Assistant's spelling of each name, each once (checkOptions refused names of white space only).
    haAllowedUsers: [...new Set((options.ha_allowed_users ?? []).map(haUsername))],
    clients: options.clients.map((c) => ({
      clientId: c.client_id,
      clientType: c.client_type,
      clientSecret: c.client_secret || undefined,
      redirectUris: [...new Set(c.redirect_uris.map((uri) => uri.trim()))],
      scopes: [...new Set(c.scopes ?? [])],
    })),
    accessTokenLifetime: options.access_token_lifetime ?? DEFAULTS.access_token_lifetime,
    authCodeLifetime: options.auth_code_lifetime ?? DEFAULTS.auth_code_lifetime,
    refreshTokenIdleLifetime: options.refresh_token_idle_lifetime ?? DEFAULTS.refresh_token_idle_lifetime,
    refreshTokenGraceGenerations: options.refresh_token_grace_generations ?? DEFAULTS.refresh_token_grace_generations,
    refreshTokenGracePeriod: options.refresh_token_grace_period ?? DEFAULTS.refresh_token_grace_period,
    trustedProxies: options.trusted_proxies ?? [],
    logLevel: options.log_level ?? DEFAULTS.log_level,
    resourceServers: (options.resource_servers ?? []).map((r) => ({ id: r.id, secret: r.secret })),
    notifications: options.notifications ?? DEFAULTS.notifications,
  };
}

/**
 * Validate parsed options (already JSON). `fix` says where the operator edits them. The schema and the checks
 * beyond it both run, so one start-up reports every problem at once instead of revealing them one restart at a
 * time; only options that pass both become a Config.
 */
export function validateOptions(raw: unknown, fix: string): LoadedConfig {
  const shapeOk = validateShape(raw);
  const shapeProblems = shapeOk ? [] : (validateShape.errors ?? []).map((e) => describeAjvError(e, fix));
  if (!isRecord(raw)) throw new ConfigError(distinct(shapeProblems));
  const { problems, warnings } = checkOptions(raw, fix);
  const all = distinct([...shapeProblems, ...problems]);
  if (!shapeOk || all.length > 0) throw new ConfigError(all);
  return { warnings, config: toConfig(raw) };
}

/** Read and validate an options file. JSON syntax errors name the line and column. */
export function loadConfigFile(path: string, fix: string): LoadedConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError([{ option: path, problem: `cannot be read (${code}${READ_ERRORS[code] ? `: ${READ_ERRORS[code]}` : ''})`, fix }]);
  }
  let text: string;
  try {
    // A password saved in Latin-1 would otherwise become U+FFFD, and its owner could never log in, without a word.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, ''); // editors on Windows add a BOM
  } catch {
    throw new ConfigError([
      { option: path, problem: 'not valid UTF-8 (it was saved in another encoding)', fix: `save it as UTF-8; ${fix}` },
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    if (text.trim() === '') {
      throw new ConfigError([
        { option: path, problem: 'the file is empty', fix: `it must hold a JSON object with at least "clients"; ${fix}` },
      ]);
    }
    const position = jsonErrorPosition(text, String((err as Error).message));
    let where = '';
    if (position !== undefined) {
      const before = text.slice(0, position);
      where = ` at line ${before.split('\n').length}, column ${position - before.lastIndexOf('\n')}`;
    }
    throw new ConfigError([{ option: path, problem: `not valid JSON${where} (${jsonErrorText(String((err as Error).message))})`, fix }]);
  }
  return validateOptions(raw, fix);
}

const READ_ERRORS: Record<string, string> = {
  EISDIR: 'it is a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many symbolic links',
  EIO: 'I/O error reading the disk',
  ENOTDIR: 'a part of its path is a file, not a folder (check DATA_DIR)',
};

/**
 * V8's JSON.parse message without the excerpt of the file it may quote ("Unexpected token 's', ..."secret": s3cr"...
 * is not valid JSON"): the options file holds passwords and secrets, and this line goes to the log.
 */
export function jsonErrorText(message: string): string {
  const m = /^Unexpected token .*?, .* is not valid JSON$/s.exec(message);
  return m ? 'unexpected character' : message.replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * Where the JSON goes wrong. V8 names the position for most errors but not for "Unexpected token"; then the
 * shortest prefix of the text that fails for a reason other than ending early ends at the offending character.
 */
export function jsonErrorPosition(text: string, message: string): number | undefined {
  const at = /position (\d+)/.exec(message);
  if (at) return Number(at[1]);
  if (/end of JSON input/.test(message)) return text.trimEnd().length;
  const failsInside = (n: number): boolean => {
    try {
      JSON.parse(text.slice(0, n));
      return false;
    } catch (err) {
      const msg = String((err as Error).message);
      if (/end of JSON input/.test(msg)) return false;
      const pos = /position (\d+)/.exec(msg);
      return !pos || Number(pos[1]) < n;
    }
  };
  if (!failsInside(text.length)) return undefined;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsInside(mid)) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(0, lo - 1);
}
