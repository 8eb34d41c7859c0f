/**
 * The Home Assistant Supervisor's rules for add-on options, so the add-on can run without Home Assistant and
 * tests can prove config.yaml means what we think. Behaviour follows home-assistant/supervisor:
 *   - supervisor/addons/options.py (AddonOptions): the type grammar and how each value is checked and coerced;
 *   - supervisor/addons/validate.py (SCHEMA_ELEMENT): which `schema` shapes a manifest may declare;
 *   - Addon.options: the options written to options.json are config.yaml's defaults overlaid, key by key at the
 *     top level, with the user's saved options (a shallow merge: a user's `clients` list replaces the default).
 * Like the Supervisor, validation stops at the first problem, drops unknown keys with a warning, and writes the
 * coerced values. Messages name the option but never echo its value (it may be a password).
 */

export type SchemaNode = string | SchemaNode[] | { [key: string]: SchemaNode };
export type AddonSchema = Record<string, SchemaNode>;

export interface OptionsContext {
  /** Add-on name and slug, as the Supervisor puts them in every message. */
  name: string;
  slug: string;
  /** Values for `!secret <name>` (Home Assistant's secrets.yaml); none by default. */
  secrets?: Record<string, unknown>;
}

export interface ValidatedOptions {
  options: Record<string, unknown>;
  /** Unknown keys the Supervisor would drop (it logs a warning and carries on). */
  warnings: string[];
}

/** What the Supervisor would refuse: the add-on does not start and its options are not written. */
export class AddonOptionsError extends Error {}

/**
 * One schema element: a type, optionally followed by `?` (may be left out). Same alternatives as the
 * Supervisor's RE_SCHEMA_ELEMENT, including its empty alternative (which then fails at validation time).
 */
const SCHEMA_ELEMENT =
  /^(?:|bool|email|url|port|device(?:\((?<filter>subsystem=[a-z]+)\))?|str(?:\((?<s_min>\d+)?,(?<s_max>\d+)?\))?|password(?:\((?<p_min>\d+)?,(?<p_max>\d+)?\))?|int(?:\((?<i_min>\d+)?,(?<i_max>\d+)?\))?|float(?:\((?<f_min>[\d.]+)?,(?<f_max>[\d.]+)?\))?|match\((?<match>.*)\)|list\((?<list>.+)\))\??$/;

export function isSchemaElement(type: string): boolean {
  return SCHEMA_ELEMENT.test(type);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Problems with a manifest's `schema` under validate.py's SCHEMA_ELEMENT: a string must be a schema element;
 * a list holds elements or dicts (never another list) and, for options.py to use it, exactly one of them;
 * a dict maps names to any of these.
 */
export function schemaProblems(schema: unknown, at = 'schema'): string[] {
  if (!isPlainObject(schema)) return [`${at}: must be a mapping of option names to types`];
  const problems: string[] = [];
  const visit = (node: unknown, where: string, inList: boolean): void => {
    if (typeof node === 'string') {
      if (!isSchemaElement(node) || node === '' || node === '?') problems.push(`${where}: "${node}" is not a Supervisor option type`);
    } else if (Array.isArray(node)) {
      if (inList) problems.push(`${where}: a list may not directly contain another list`);
      else if (node.length !== 1) problems.push(`${where}: a list declares exactly one element type, found ${node.length}`);
      node.forEach((item, i) => visit(item, `${where}[${i}]`, true));
    } else if (isPlainObject(node)) {
      for (const [key, child] of Object.entries(node)) visit(child, `${where}.${key}`, false);
    } else {
      problems.push(`${where}: must be a type string, a one-element list or a mapping`);
    }
  };
  for (const [key, node] of Object.entries(schema)) visit(node, `${at}.${key}`, false);
  return problems;
}

/** Whether the Supervisor lets this option be left out (options.py _check_missing_options). */
export function isOptional(node: SchemaNode): boolean {
  const element = Array.isArray(node) ? node[0] : node;
  return typeof element === 'string' && element.endsWith('?');
}

/** Python's str() of a JSON value, as the Supervisor applies before list(...) and match(...) checks. */
function pyStr(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return value;
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** Python's int() as used by voluptuous Coerce(int). */
function pyInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && /^\s*[+-]?\d+(?:_\d+)*\s*$/.test(value)) return Number(value.replace(/[_\s]/g, ''));
  return undefined;
}

/** Python's float() as used by voluptuous Coerce(float). */
function pyFloat(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const t = value.trim().replace(/(\d)_(?=\d)/g, '$1');
    if (/^[+-]?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|inf(?:inity)?|nan)$/i.test(t)) {
      const lower = t.toLowerCase().replace(/^[+-]/, '');
      if (lower.startsWith('inf')) return t.startsWith('-') ? -Infinity : Infinity;
      if (lower === 'nan') return NaN;
      return Number(t);
    }
  }
  return undefined;
}

/** voluptuous Boolean(). */
function pyBool(value: unknown): boolean | undefined {
  if (typeof value === 'string') {
    const v = value.toLowerCase();
    if (['1', 'true', 'yes', 'on', 'enable'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', 'disable'].includes(v)) return false;
    return undefined;
  }
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

class Validator {
  readonly warnings: string[] = [];

  constructor(
    private readonly schema: AddonSchema,
    private readonly ctx: OptionsContext,
  ) {}

  private get who(): string {
    return `${this.ctx.name} (${this.ctx.slug})`;
  }

  private fail(message: string): never {
    throw new AddonOptionsError(message);
  }

  private invalid(path: string, type: string, why: string): never {
    return this.fail(`Invalid value for option '${path}' (${type}) in ${this.who}: ${why}`);
  }

  run(options: unknown): Record<string, unknown> {
    if (!isPlainObject(options)) this.fail(`Options of ${this.who} must be a mapping`);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) {
      const node = Object.hasOwn(this.schema, key) ? this.schema[key] : undefined;
      if (node === undefined) {
        this.warnings.push(`Option '${key}' does not exist in the schema for ${this.who}`);
        continue;
      }
      out[key] = this.element(node, value, key, key);
    }
    this.checkMissing(this.schema, out, 'root', '');
    return out;
  }

  private element(type: SchemaNode, value: unknown, key: string, path: string): unknown {
    if (Array.isArray(type)) {
      const [itemType] = type;
      if (itemType === undefined) this.fail(`Type error for option '${key}' in ${this.who}`);
      if (!Array.isArray(value)) this.fail(`Invalid list for option '${key}' in ${this.who}`);
      return value.map((item, i) => this.element(itemType, item, key, `${path}[${i}]`));
    }
    if (isPlainObject(type)) {
      if (!isPlainObject(value)) this.fail(`Invalid dict for option '${key}' in ${this.who}`);
      const out: Record<string, unknown> = {};
      for (const [childKey, childValue] of Object.entries(value)) {
        const childType = Object.hasOwn(type, childKey) ? type[childKey] : undefined;
        if (childType === undefined) {
          this.warnings.push(`Unknown option '${childKey}' for ${this.who} (in ${path})`);
          continue;
        }
        out[childKey] = this.element(childType, childValue, childKey, `${path}.${childKey}`);
      }
      this.checkMissing(type, out, key, path);
      return out;
    }
    return this.single(type, value, key, path);
  }

  private single(type: string, raw: unknown, key: string, path: string): unknown {
    if (raw === null || raw === undefined) this.fail(`Missing required option '${key}' in ${this.who}`);
    let value: unknown = raw;
    if (pyStr(value).startsWith('!secret ')) {
      const name = pyStr(value).slice('!secret '.length);
      value = this.ctx.secrets?.[name];
      if (value === undefined || value === null) this.fail(`Unknown secret '${name}' in ${this.who}`);
    }
    const m = SCHEMA_ELEMENT.exec(type);
    if (!m) this.fail(`Unknown type '${type}' in ${this.who}`);
    const g = m.groups ?? {};
    const invalid = (why: string): never => this.invalid(path, type, why);
    const range = (n: number, min?: string, max?: string): number => {
      if (min !== undefined && n < Number(min)) this.invalid(path, type, `value must be at least ${Number(min)}`);
      if (max !== undefined && n > Number(max)) this.invalid(path, type, `value must be at most ${Number(max)}`);
      return n;
    };

    if (type.startsWith('str') || type.startsWith('password')) {
      if (typeof value !== 'string') return invalid('not a valid value (expected text)');
      // Bounds of str(min,max) / password(min,max) are lengths.
      range(value.length, g.s_min ?? g.p_min, g.s_max ?? g.p_max);
      return value;
    }
    if (type.startsWith('int')) {
      const n = pyInt(value);
      if (n === undefined) return invalid('expected int');
      return range(n, g.i_min, g.i_max);
    }
    if (type.startsWith('float')) {
      const n = pyFloat(value);
      if (n === undefined) return invalid('expected float');
      return range(n, g.f_min, g.f_max);
    }
    if (type.startsWith('bool')) {
      const b = pyBool(value);
      if (b === undefined) return invalid('expected boolean');
      return b;
    }
    if (type.startsWith('email')) {
      if (typeof value !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) invalid('Invalid email address');
      return value;
    }
    if (type.startsWith('url')) {
      // voluptuous Url(): urlparse must find a scheme and a network location.
      if (typeof value !== 'string') return invalid('expected a URL');
      if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]+/.test(value)) invalid('expected a URL (with a scheme and a host)');
      return value;
    }
    if (type.startsWith('port')) {
      const n = pyInt(value);
      if (n === undefined) return invalid('expected int');
      return range(n, '1', '65535');
    }
    if (type.startsWith('match')) {
      const s = pyStr(value);
      // Python's re.match anchors at the start only.
      if (!new RegExp(`^(?:${g.match})`).test(s)) invalid(`does not match regular expression ${g.match}`);
      return s;
    }
    if (type.startsWith('list')) {
      const choices = (g.list ?? '').split('|');
      const s = pyStr(value);
      if (!choices.includes(s)) invalid(`value must be one of ${choices.join(', ')}`);
      return s;
    }
    if (type.startsWith('device')) {
      invalid('device options need the Supervisor hardware list, which the stand-in does not have');
    }
    return this.fail(`Fatal error for option '${key}' with type '${type}' in ${this.who}`);
  }

  private checkMissing(schema: Record<string, SchemaNode>, present: Record<string, unknown>, root: string, path: string): void {
    for (const [key, node] of Object.entries(schema)) {
      if (key in present || isOptional(node)) continue;
      this.fail(`Missing option '${key}' in ${root} in ${this.who}${path ? ` (at ${path})` : ''}`);
    }
  }
}

/** Checks options against a manifest schema the way the Supervisor does before it writes options.json. */
export function validateAddonOptions(schema: AddonSchema, options: unknown, ctx: OptionsContext): ValidatedOptions {
  const validator = new Validator(schema, ctx);
  const validated = validator.run(options);
  return { options: validated, warnings: validator.warnings };
}

/** Addon.options: config.yaml's defaults with the user's saved options laid over them, key by key. */
export function mergeOptions(defaults: Record<string, unknown>, user: Record<string, unknown>): Record<string, unknown> {
  return structuredClone({ ...defaults, ...user });
}
