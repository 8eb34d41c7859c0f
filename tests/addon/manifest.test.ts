/**
 * config.yaml, translations/en.yaml and repository.yaml against the Supervisor's rules, and against the
 * options the server itself reads (src/config/options-schema.ts), so the Configuration tab and the server
 * can never drift apart.
 */
import { expect } from '@jest/globals';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  imageProblems,
  loadManifest,
  loadTranslations,
  loadYaml,
  manifestProblems,
  REPO_ROOT,
  schemaPaths,
  translationPaths,
  translationProblems,
} from '../../addon/manifest';
import { renderOptions } from '../../addon/render-options';
import { isOptional, isSchemaElement, SchemaNode } from '../../addon/supervisor-options';
import { ConfigError, problemLine, validateOptions } from '../../src/config/load-config';
import { OPTION_KEYS, optionsSchema } from '../../src/config/options-schema';
import { DB_FILE } from '../../src/store/sqlite/sqlite-store';
import { defined } from '../helpers/defined';

const manifest = loadManifest();
const translations = loadTranslations();
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

/** Defaults of supervisor/addons/validate.py _SCHEMA_ADDON_CONFIG; the add-on linter rejects keys set to them. */
const SUPERVISOR_DEFAULTS: Record<string, unknown> = {
  startup: 'application',
  boot: 'auto',
  init: true,
  advanced: false,
  stage: 'stable',
  ingress: false,
  ingress_port: 8099,
  ingress_stream: false,
  panel_icon: 'mdi:puzzle',
  panel_admin: true,
  host_network: false,
  host_pid: false,
  host_ipc: false,
  host_uts: false,
  host_dbus: false,
  udev: false,
  tmpfs: false,
  apparmor: true,
  full_access: false,
  audio: false,
  video: false,
  gpio: false,
  usb: false,
  uart: false,
  devicetree: false,
  kernel_modules: false,
  realtime: false,
  hassio_api: false,
  hassio_role: 'default',
  homeassistant_api: false,
  stdin: false,
  legacy: false,
  docker_api: false,
  auth_api: false,
  backup: 'hot',
  timeout: 10,
  journald: false,
};

/** Every leaf type string of a schema, with its path. */
function leafTypes(schema: Record<string, SchemaNode>, at = ''): Array<[string, string]> {
  return Object.entries(schema).flatMap(([key, node]): Array<[string, string]> => {
    const here = at ? `${at}.${key}` : key;
    const element = Array.isArray(node) ? node[0] : node;
    if (typeof element === 'string') return [[here, element]];
    return leafTypes(element as Record<string, SchemaNode>, here);
  });
}

const FIX = 'set it in the add-on Configuration tab';

describe('config.yaml', () => {
  it('is a manifest the Supervisor accepts', () => {
    expect(manifestProblems(manifest)).toEqual([]);
  });

  it('names, versions and places the add-on', () => {
    expect(manifest).toMatchObject({
      name: expect.any(String),
      slug: expect.stringMatching(/^[a-z0-9_]+$/),
      description: expect.any(String),
      url: expect.stringMatching(/^https:\/\//),
      version: pkg.version,
      arch: ['aarch64', 'amd64'],
      init: false,
      auth_api: true,
      ports: { '8096/tcp': 8096 },
      ports_description: { '8096/tcp': expect.any(String) },
    });
  });

  it('names the prebuilt multi-arch image: ghcr.io/<owner of url>/<slug>, no {arch}, no tag', () => {
    // The April 2026 builder migration: one generic multi-arch name; the Supervisor pulls <image>:<version>.
    const owner = defined(new URL(String(manifest.url)).pathname.split('/')[1], 'an owner in the url');
    expect(manifest.image).toBe(`ghcr.io/${owner.toLowerCase()}/${manifest.slug}`);
    expect(imageProblems(manifest.image)).toEqual([]);
    const repo = loadYaml<{ url: string }>(path.join(REPO_ROOT, 'repository.yaml'));
    expect(repo.url).toBe(manifest.url);
  });

  it('refuses the image names the Supervisor refuses', () => {
    expect(imageProblems('ghcr.io/owner/name')).toEqual([]);
    expect(imageProblems('ghcr.io/owner/{arch}-name')).toEqual([]);
    expect(imageProblems('owner/name')).toEqual([]);
    expect(imageProblems('ghcr.io/owner/name:1.1.0')).toEqual([expect.stringContaining('must not carry a tag')]);
    expect(imageProblems('ghcr.io/Owner/name')).toEqual([expect.stringContaining('"Owner" is not a valid lowercase path component')]);
    expect(imageProblems('GHCR.io/owner/name')).toEqual([expect.stringContaining('not a valid lowercase registry')]);
    expect(imageProblems('')).toHaveLength(1);
    expect(manifestProblems({ ...manifest, image: 'ghcr.io/owner/name:latest' })).toHaveLength(1);
  });

  it('sets no key to the Supervisor default and has no watchdog (the Docker HEALTHCHECK replaces it)', () => {
    expect(manifest).not.toHaveProperty('watchdog');
    const atDefault = Object.entries(SUPERVISOR_DEFAULTS)
      .filter(([key, value]) => key in manifest && manifest[key] === value)
      .map(([key]) => key);
    expect(atDefault).toEqual([]);
  });

  it('makes hot backups consistent with the backup helper the image ships', () => {
    // Hot is the Supervisor default (left out above): the add-on keeps answering Alexa during a backup.
    expect(manifest.backup ?? 'hot').toBe('hot');
    const helper = path.join(REPO_ROOT, 'rootfs', 'usr', 'local', 'bin', 'oauth-backup');
    expect(manifest.backup_pre).toBe('/usr/local/bin/oauth-backup pre');
    expect(manifest.backup_post).toBe('/usr/local/bin/oauth-backup post');
    accessSync(helper, constants.X_OK);
    const script = readFileSync(helper, 'utf8');
    // The helper snapshots the database the server really opens, and the marker it keeps out of backups is
    // the one config.yaml excludes.
    expect(script).toContain(`db="\${data_dir}/${DB_FILE}"`);
    const marker = /marker="\$\{snapshot_dir\}\/([^"]+)"/.exec(script)?.[1];
    expect(manifest.backup_exclude).toEqual([marker]);
  });

  it('declares every schema type in the Supervisor grammar', () => {
    const leaves = leafTypes(manifest.schema);
    expect(leaves.length).toBeGreaterThan(10);
    for (const [where, type] of leaves) {
      expect({ where, type, valid: isSchemaElement(type) && type !== '' && type !== '?' }).toEqual({ where, type, valid: true });
    }
  });

  it('has the same keys in options and schema, down to the fields of the default client', () => {
    expect(Object.keys(manifest.options).sort()).toEqual(Object.keys(manifest.schema).sort());
    const clients = manifest.options.clients as Array<Record<string, unknown>>;
    const clientSchema = (manifest.schema.clients as SchemaNode[])[0] as Record<string, SchemaNode>;
    expect(Object.keys(defined(clients[0], 'a default client')).sort()).toEqual(Object.keys(clientSchema).sort());
  });

  it('declares exactly the options the server reads, with the same nested fields', () => {
    const serverKeys = [...OPTION_KEYS].sort();
    expect(Object.keys(optionsSchema.properties).sort()).toEqual(serverKeys);
    expect(Object.keys(manifest.schema).sort()).toEqual(serverKeys);
    const nested = (key: 'users' | 'clients') =>
      Object.keys((manifest.schema[key] as SchemaNode[])[0] as Record<string, SchemaNode>).sort();
    expect(nested('users')).toEqual(Object.keys(optionsSchema.properties.users.items.properties).sort());
    expect(nested('clients')).toEqual(Object.keys(optionsSchema.properties.clients.items.properties).sort());
  });

  it('marks optional exactly what the server does not require, and uses the server bounds and choices', () => {
    const required = new Set<string>(optionsSchema.required);
    for (const [key, node] of Object.entries(manifest.schema)) {
      // Lists of entries cannot be optional in the Supervisor grammar; the defaults supply them.
      if (Array.isArray(node) && typeof node[0] === 'object') continue;
      expect({ key, optional: isOptional(node) }).toEqual({ key, optional: !required.has(key) });
    }
    const clientSchema = (manifest.schema.clients as SchemaNode[])[0] as Record<string, SchemaNode>;
    for (const [field, node] of Object.entries(clientSchema)) {
      expect({ field, optional: isOptional(node) }).toEqual({
        field,
        optional: !(optionsSchema.properties.clients.items.required as readonly string[]).includes(field),
      });
    }
    for (const key of ['access_token_lifetime', 'auth_code_lifetime', 'refresh_token_idle_lifetime'] as const) {
      const { minimum, maximum } = optionsSchema.properties[key];
      expect(manifest.schema[key]).toBe(`int(${minimum},${maximum})?`);
    }
    expect(manifest.schema.log_level).toBe(`list(${optionsSchema.properties.log_level.enum.join('|')})?`);
    expect(clientSchema.client_type).toBe(
      `list(${[...optionsSchema.properties.clients.items.properties.client_type.enum].sort().join('|')})`,
    );
  });

  it('renders defaults the server refuses only for the missing client secret, with the documented message', () => {
    const { options, warnings } = renderOptions({ manifest });
    expect(warnings).toEqual([]);
    let error: unknown;
    try {
      validateOptions(options, FIX);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map(problemLine)).toEqual([
      `clients[0].client_secret: required when client_type is confidential; ${FIX}`,
    ]);
  });

  it('renders defaults the server accepts once the secret and the vendor id are filled in', () => {
    const defaults = manifest.options.clients as Array<Record<string, unknown>>;
    const first = defined(defaults[0], 'a default client');
    const client = {
      ...first,
      client_secret: 'a-long-random-secret-of-32-chars!',
      redirect_uris: (first.redirect_uris as string[]).map((u) => u.replace('M2XXXXXXXXXXXX', 'M1ABCDEF123456')),
    };
    const { options } = renderOptions({ manifest, userOptions: { clients: [client] } });
    const { config, warnings } = validateOptions(options, FIX);
    expect(warnings).toEqual([]);
    expect(config.clients[0]).toMatchObject({
      clientId: 'amazon-alexa',
      clientType: 'confidential',
      scopes: ['music.read', 'music.control'],
    });
    expect(config.users).toEqual([]);
  });

  it('is the only add-on manifest the Supervisor finds in the repository (it globs **/config.{json,yaml,yml})', () => {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.name.startsWith('.') || ['node_modules', 'dist', 'dist-addon', 'data', 'coverage', 'test-artifacts'].includes(entry.name))
          continue;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/^config\.(json|ya?ml)$/.test(entry.name)) found.push(path.relative(REPO_ROOT, full));
      }
    };
    walk(REPO_ROOT);
    expect(found).toEqual(['config.yaml']);
  });
});

describe('translations/en.yaml', () => {
  it('is a translation file the Supervisor accepts', () => {
    expect(translationProblems(translations)).toEqual([]);
  });

  it('names and describes every option and nested field, and nothing else', () => {
    const expected = schemaPaths(manifest.schema);
    expect(expected).toEqual(expect.arrayContaining(['clients.client_secret', 'clients.redirect_uris', 'users.password']));
    expect(translationPaths(translations.configuration).sort()).toEqual([...expected].sort());
    // A translation entry: { name, description, fields? }; the path walks into fields below the first key.
    type Entry = { name?: unknown; description?: unknown; fields?: Record<string, Entry> };
    const entry = (p: string) =>
      p
        .split('.')
        .reduce<Entry | undefined>(
          (node, key, i) => (i === 0 ? (translations.configuration as Record<string, Entry>)[key] : node?.fields?.[key]),
          undefined,
        );
    for (const p of expected) {
      expect({ p, name: typeof entry(p)?.name, description: typeof entry(p)?.description }).toEqual({
        p,
        name: 'string',
        description: 'string',
      });
    }
  });

  it('describes every port', () => {
    expect(Object.keys(translations.network ?? {})).toEqual(Object.keys(manifest.ports ?? {}));
  });
});

describe('repository.yaml and the files Home Assistant shows', () => {
  it('lets users add the repository to the add-on store', () => {
    const repo = loadYaml<Record<string, unknown>>(path.join(REPO_ROOT, 'repository.yaml'));
    expect(repo).toEqual({ name: expect.any(String), url: expect.stringMatching(/^https:\/\//), maintainer: expect.any(String) });
  });

  it('ships the documentation, changelog and images', () => {
    for (const file of ['DOCS.md', 'CHANGELOG.md', 'icon.png', 'logo.png']) {
      expect({ file, exists: existsSync(path.join(REPO_ROOT, file)) }).toEqual({ file, exists: true });
    }
    const changelog = readFileSync(path.join(REPO_ROOT, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain(`## ${pkg.version}`);
  });

  it('has PNG images of the sizes Home Assistant displays', () => {
    const size = (file: string) => {
      const png = readFileSync(path.join(REPO_ROOT, file));
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
    };
    expect(size('icon.png')).toEqual({ width: 128, height: 128 });
    const logo = size('logo.png');
    expect(logo.width).toBeGreaterThanOrEqual(200);
    expect(logo.width).toBeLessThanOrEqual(300);
    expect(logo.height).toBeGreaterThanOrEqual(80);
    expect(logo.height).toBeLessThanOrEqual(125);
  });

  it('documents every option and the Alexa console values', () => {
    const docs = readFileSync(path.join(REPO_ROOT, 'DOCS.md'), 'utf8');
    for (const key of schemaPaths(manifest.schema)) {
      expect({ key, documented: docs.includes(`\`${key.split('.').pop()}\``) }).toEqual({ key, documented: true });
    }
    for (const text of ['/alexa/authorize', '/alexa/token', 'HTTP Basic', 'Credentials in request body', 'proxy_pass', 'reverse_proxy']) {
      expect(docs).toContain(text);
    }
  });
});
