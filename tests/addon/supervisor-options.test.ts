/**
 * The stand-in's copy of the Supervisor's option rules (addon/supervisor-options.ts), exercised on this
 * add-on's real schema: what the Configuration tab accepts, coerces, drops and refuses.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadManifest } from '../../addon/manifest';
import { readUserOptions, renderOptions, writeOptionsFile } from '../../addon/render-options';
import { AddonOptionsError, isSchemaElement, mergeOptions, schemaProblems, validateAddonOptions } from '../../addon/supervisor-options';

const manifest = loadManifest();
const ctx = { name: manifest.name, slug: manifest.slug };
const client = {
  client_id: 'amazon-alexa',
  client_type: 'confidential',
  client_secret: 'a-long-random-secret-of-32-chars!',
  redirect_uris: ['https://pitangui.amazon.com/api/skill/link/M1ABCDEF123456'],
  scopes: ['music.read'],
};

function refusal(userOptions: Record<string, unknown>, secrets?: Record<string, unknown>): string {
  try {
    renderOptions({ manifest, userOptions, secrets });
  } catch (err) {
    expect(err).toBeInstanceOf(AddonOptionsError);
    return (err as Error).message;
  }
  throw new Error('the options were accepted');
}

describe('the Supervisor type grammar', () => {
  it.each([
    'str',
    'str?',
    'password',
    'password?',
    'int',
    'int(360,86400)?',
    'int(30,)',
    'int(,600)',
    'float(0.5,2)',
    'bool',
    'email',
    'url?',
    'port',
    'match(^[a-z]+$)',
    'list(error|warn|info|debug)?',
    'device(subsystem=tty)',
  ])('accepts %s', (type) => expect(isSchemaElement(type)).toBe(true));

  it.each(['string', 'integer', 'int(a,b)', 'int(1,2', 'list()', 'boolean', 'str??', 'url!', 'int(-1,5)'])('refuses %s', (type) =>
    expect(isSchemaElement(type)).toBe(false),
  );

  it('refuses lists of lists, empty lists and unknown types in a schema', () => {
    expect(schemaProblems({ a: [['str']], b: [], c: 'text', d: [{ e: 'integer' }] })).toEqual([
      'schema.a[0]: a list may not directly contain another list',
      'schema.b: a list declares exactly one element type, found 0',
      'schema.c: "text" is not a Supervisor option type',
      'schema.d[0].e: "integer" is not a Supervisor option type',
    ]);
  });
});

describe('rendering options.json from config.yaml', () => {
  it('overlays the user options on the defaults key by key, as Addon.options does', () => {
    expect(mergeOptions({ a: 1, list: [1, 2] }, { list: [3] })).toEqual({ a: 1, list: [3] });
    const { options } = renderOptions({ manifest, userOptions: { clients: [client], log_level: 'debug' } });
    expect(options).toEqual({ ...manifest.options, clients: [client], log_level: 'debug' });
  });

  it('coerces integers the way voluptuous Coerce(int) does', () => {
    const { options } = renderOptions({ manifest, userOptions: { clients: [client], access_token_lifetime: '7200' } });
    expect(options.access_token_lifetime).toBe(7200);
  });

  it('drops unknown options with a warning instead of refusing them', () => {
    const { options, warnings } = renderOptions({ manifest, userOptions: { clients: [{ ...client, colour: 'red' }], tokn_lifetime: 5 } });
    expect(options).not.toHaveProperty('tokn_lifetime');
    expect((options.clients as object[])[0]).not.toHaveProperty('colour');
    expect(warnings).toEqual([
      `Unknown option 'colour' for ${manifest.name} (${manifest.slug}) (in clients[0])`,
      `Option 'tokn_lifetime' does not exist in the schema for ${manifest.name} (${manifest.slug})`,
    ]);
  });

  it('refuses values out of range, naming the option and never echoing it', () => {
    const message = refusal({ access_token_lifetime: 100 });
    expect(message).toBe(
      `Add-on ${manifest.slug} has invalid options: Invalid value for option 'access_token_lifetime' (int(360,86400)?) in ${manifest.name} (${manifest.slug}): value must be at least 360`,
    );
    expect(refusal({ auth_code_lifetime: 601 })).toContain('value must be at most 600');
    expect(refusal({ access_token_lifetime: 'an hour' })).toContain('expected int');
  });

  it('refuses a choice outside list(...)', () => {
    expect(refusal({ log_level: 'verbose' })).toContain("'log_level' (list(error|warn|info|debug)?)");
    expect(refusal({ clients: [{ ...client, client_type: 'secret' }] })).toContain('value must be one of confidential, public');
  });

  it('refuses a missing required field of a list entry, and a null value', () => {
    const { client_id: _omit, ...withoutId } = client;
    expect(refusal({ clients: [withoutId] })).toContain(`Missing option 'client_id' in clients in ${manifest.name}`);
    expect(refusal({ users: [{ username: 'owner' }] })).toContain(`Missing option 'password' in users`);
    expect(refusal({ log_level: null })).toContain(`Missing required option 'log_level'`);
  });

  it('refuses a wrong shape: text where a list belongs, a number where text belongs', () => {
    expect(refusal({ trusted_proxies: '172.30.32.0/23' })).toContain(`Invalid list for option 'trusted_proxies'`);
    expect(refusal({ users: [{ username: 'owner', password: 12345678 }] })).toContain(`'users[0].password' (password)`);
  });

  it('resolves !secret references, and refuses unknown ones', () => {
    const withSecret = { ...client, client_secret: '!secret alexa_client_secret' };
    const { options } = renderOptions({
      manifest,
      userOptions: { clients: [withSecret] },
      secrets: { alexa_client_secret: 'from-secrets-yaml-0123456789' },
    });
    expect((options.clients as Array<Record<string, unknown>>)[0]?.client_secret).toBe('from-secrets-yaml-0123456789');
    expect(refusal({ clients: [withSecret] })).toContain(`Unknown secret 'alexa_client_secret'`);
  });

  it('accepts a missing optional option, but not a missing required list', () => {
    const { log_level: _l, public_url: _p, ...rest } = manifest.options;
    expect(validateAddonOptions(manifest.schema, { ...rest, clients: [client] }, ctx).options).not.toHaveProperty('log_level');
    const { users: _u, ...noUsers } = manifest.options;
    expect(() => validateAddonOptions(manifest.schema, noUsers, ctx)).toThrow(`Missing option 'users' in root`);
  });

  it('writes options.json for its owner only, and reads YAML or JSON option files', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'addon-options-'));
    try {
      const file = writeOptionsFile(dir, { clients: [client] });
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ clients: [client] });
      expect(statSync(file).mode & 0o777).toBe(0o600);
      writeFileSync(path.join(dir, 'user.yaml'), 'log_level: debug\nclients:\n  - client_id: x\n');
      expect(readUserOptions(path.join(dir, 'user.yaml'))).toEqual({ log_level: 'debug', clients: [{ client_id: 'x' }] });
      writeFileSync(path.join(dir, 'user.json'), JSON.stringify({ log_level: 'warn' }));
      expect(readUserOptions(path.join(dir, 'user.json'))).toEqual({ log_level: 'warn' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
