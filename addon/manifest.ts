/**
 * The add-on as the Supervisor reads it from this repository: config.yaml (the manifest) and
 * translations/en.yaml, with the checks the Supervisor applies when it loads them (supervisor/addons/validate.py:
 * _SCHEMA_ADDON_CONFIG and SCHEMA_ADDON_TRANSLATIONS). An add-on failing these does not appear in the store.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { AddonSchema, SchemaNode, schemaProblems } from './supervisor-options';

/** The repository root, from addon/ (ts-jest) as from dist-addon/ (compiled). */
export const REPO_ROOT = path.resolve(__dirname, '..');

export interface AddonManifest {
  name: string;
  version: string;
  slug: string;
  description: string;
  arch: string[];
  options: Record<string, unknown>;
  schema: AddonSchema;
  ports?: Record<string, number | null>;
  ports_description?: Record<string, string>;
  [key: string]: unknown;
}

export interface TranslationEntry {
  name: string;
  description?: string | null;
  fields?: Record<string, TranslationEntry>;
}

export interface AddonTranslations {
  configuration?: Record<string, TranslationEntry>;
  network?: Record<string, string>;
}

const ARCHES = ['aarch64', 'amd64', 'armhf', 'armv7', 'i386'];
/** supervisor/validate.py docker_image: an optional lowercase registry, then lowercase path components, no tag. */
const IMAGE_REGISTRY =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const IMAGE_PATH_COMPONENT = /^[a-z0-9{][a-z0-9.\-_{}]*$/;
const SLUG = /^[-_.A-Za-z0-9]+$/;
const PORT_KEY = /^\d+(?:\/(?:tcp|udp))?$/;
const BOOLEAN_KEYS = ['init', 'auth_api', 'hassio_api', 'homeassistant_api', 'ingress', 'host_network', 'stdin', 'advanced'];

export function loadYaml<T>(file: string): T {
  return parse(readFileSync(file, 'utf8')) as T;
}

export function loadManifest(root = REPO_ROOT): AddonManifest {
  return loadYaml<AddonManifest>(path.join(root, 'config.yaml'));
}

export function loadTranslations(root = REPO_ROOT, language = 'en'): AddonTranslations {
  return loadYaml<AddonTranslations>(path.join(root, 'translations', `${language}.yaml`));
}

function isUrl(value: unknown): boolean {
  try {
    const u = new URL(String(value));
    return Boolean(u.protocol && u.host);
  } catch {
    return false;
  }
}

/** What the Supervisor would refuse in config.yaml, one line per problem. */
export function manifestProblems(m: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of ['name', 'version', 'slug', 'description', 'arch']) {
    if (m[key] === undefined) problems.push(`${key}: required`);
  }
  for (const key of ['name', 'version', 'description']) {
    if (m[key] !== undefined && typeof m[key] !== 'string') problems.push(`${key}: must be a string (quote it in YAML)`);
  }
  if (typeof m.slug === 'string' && !SLUG.test(m.slug)) problems.push(`slug: "${m.slug}" may use only letters, digits, - _ and .`);
  if (m.arch !== undefined && (!Array.isArray(m.arch) || m.arch.some((a) => !ARCHES.includes(a as string)))) {
    problems.push(`arch: must be a list of ${ARCHES.join(', ')}`);
  }
  if (m.url !== undefined && !isUrl(m.url)) problems.push('url: must be a URL');
  if (m.image !== undefined) problems.push(...imageProblems(m.image));
  for (const key of BOOLEAN_KEYS) {
    if (m[key] !== undefined && typeof m[key] !== 'boolean') problems.push(`${key}: must be true or false`);
  }
  for (const key of ['ports', 'ports_description'] as const) {
    const value = m[key];
    if (value === undefined) continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${key}: must map "<port>/<tcp|udp>" to a value`);
      continue;
    }
    for (const [port, target] of Object.entries(value)) {
      if (!PORT_KEY.test(port)) problems.push(`${key}: "${port}" is not of the form 8096/tcp`);
      if (key === 'ports' && target !== null && !(Number.isInteger(target) && (target as number) >= 1 && (target as number) <= 65535)) {
        problems.push(`ports.${port}: must be a port number (1-65535) or null`);
      }
      if (key === 'ports_description' && typeof target !== 'string') problems.push(`ports_description.${port}: must be text`);
    }
  }
  for (const key of ['backup_pre', 'backup_post']) {
    if (m[key] !== undefined && typeof m[key] !== 'string') problems.push(`${key}: must be a command line`);
  }
  if (m.backup !== undefined && m.backup !== 'hot' && m.backup !== 'cold') problems.push('backup: must be hot or cold');
  if (m.backup_exclude !== undefined && (!Array.isArray(m.backup_exclude) || m.backup_exclude.some((e) => typeof e !== 'string'))) {
    problems.push('backup_exclude: must be a list of glob patterns');
  }
  if (m.options !== undefined && (typeof m.options !== 'object' || m.options === null || Array.isArray(m.options))) {
    problems.push('options: must be a mapping');
  }
  if (m.schema !== undefined && m.schema !== false) problems.push(...schemaProblems(m.schema));
  return problems;
}

/**
 * `image`, as supervisor/validate.py docker_image checks it: the registry (a part before the first / with a dot or a
 * colon, or localhost) lowercase and well formed, every path component lowercase, and no tag (the Supervisor
 * appends `:<version>` itself).
 */
export function imageProblems(image: unknown): string[] {
  if (typeof image !== 'string' || image === '') return ['image: must be a Docker image name such as ghcr.io/owner/name'];
  const slash = image.indexOf('/');
  const first = slash === -1 ? '' : image.slice(0, slash);
  const isRegistry = first === 'localhost' || first.includes('.') || first.includes(':') || first.toLowerCase() !== first;
  const registry = isRegistry ? first : undefined;
  const rest = isRegistry ? image.slice(slash + 1) : image;
  const problems: string[] = [];
  if (registry !== undefined && (registry !== registry.toLowerCase() || !IMAGE_REGISTRY.test(registry))) {
    problems.push(`image: "${registry}" is not a valid lowercase registry`);
  }
  if (rest === '') problems.push('image: has no name after the registry');
  else if (rest.includes(':')) problems.push(`image: "${image}" must not carry a tag; the Supervisor pulls <image>:<version>`);
  else {
    for (const component of rest.split('/')) {
      if (!IMAGE_PATH_COMPONENT.test(component)) problems.push(`image: "${component}" is not a valid lowercase path component`);
    }
  }
  return problems;
}

/** Every option name and nested field, as paths like `clients.client_secret`, in schema order. */
export function schemaPaths(schema: Record<string, SchemaNode>, prefix = ''): string[] {
  const paths: string[] = [];
  for (const [key, node] of Object.entries(schema)) {
    const here = prefix ? `${prefix}.${key}` : key;
    paths.push(here);
    const element = Array.isArray(node) ? node[0] : node;
    if (element && typeof element === 'object' && !Array.isArray(element)) paths.push(...schemaPaths(element, here));
  }
  return paths;
}

/** The same paths for translations/<lang>.yaml's `configuration` (nested fields under `fields`). */
export function translationPaths(entries: Record<string, TranslationEntry> | undefined, prefix = ''): string[] {
  const paths: string[] = [];
  for (const [key, entry] of Object.entries(entries ?? {})) {
    const here = prefix ? `${prefix}.${key}` : key;
    paths.push(here);
    if (entry?.fields) paths.push(...translationPaths(entry.fields, here));
  }
  return paths;
}

/** Problems with a translation file under SCHEMA_ADDON_TRANSLATIONS: every entry needs a name. */
export function translationProblems(t: AddonTranslations): string[] {
  const problems: string[] = [];
  const visit = (entries: Record<string, TranslationEntry> | undefined, at: string): void => {
    for (const [key, entry] of Object.entries(entries ?? {})) {
      if (!entry || typeof entry.name !== 'string' || entry.name.trim() === '') problems.push(`${at}.${key}: needs a name`);
      if (entry?.description !== undefined && entry.description !== null && typeof entry.description !== 'string') {
        problems.push(`${at}.${key}.description: must be text`);
      }
      if (entry?.fields) visit(entry.fields, `${at}.${key}.fields`);
    }
  };
  visit(t.configuration, 'configuration');
  for (const [port, text] of Object.entries(t.network ?? {})) {
    if (typeof text !== 'string') problems.push(`network.${port}: must be text`);
  }
  return problems;
}
