/**
 * JSON Schema of DATA_DIR/options.json, the file the Home Assistant Supervisor writes from the add-on's
 * Configuration tab, and the type of the options it admits (AddonOptions: the compiler checks the schema
 * against it through ajv's JSONSchemaType). config.yaml's `schema` mirrors this (tests/addon keeps the two in
 * step). additionalProperties is false everywhere so a misspelt key is reported instead of silently ignored.
 */
import type { JSONSchemaType } from 'ajv';
import { ClientType, LogLevel } from './config';

/** options.json as the schema admits it. */
export interface AddonOptions {
  public_url?: string;
  users?: Array<{ username: string; password: string }>;
  ha_allowed_users?: string[];
  clients: Array<{ client_id: string; client_type: ClientType; client_secret?: string; redirect_uris: string[]; scopes?: string[] }>;
  access_token_lifetime?: number;
  auth_code_lifetime?: number;
  refresh_token_idle_lifetime?: number;
  refresh_token_grace_generations?: number;
  refresh_token_grace_period?: number;
  trusted_proxies?: string[];
  log_level?: LogLevel;
  resource_servers?: Array<{ id: string; secret: string }>;
  notifications?: boolean;
}
export const OPTION_KEYS = [
  'public_url',
  'users',
  'ha_allowed_users',
  'clients',
  'access_token_lifetime',
  'auth_code_lifetime',
  'refresh_token_idle_lifetime',
  'refresh_token_grace_generations',
  'refresh_token_grace_period',
  'trusted_proxies',
  'log_level',
  'resource_servers',
  'notifications',
] as const;

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const satisfies readonly LogLevel[];

/**
 * `nullable: true` is how JSONSchemaType types an optional property (T | undefined); it is no part of what is
 * validated (see validatedSchema).
 */
export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['clients'],
  properties: {
    public_url: { type: 'string', nullable: true },
    users: {
      type: 'array',
      nullable: true,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'password'],
        properties: {
          username: { type: 'string', minLength: 1, maxLength: 128 },
          password: { type: 'string', minLength: 8, maxLength: 1024 },
        },
      },
    },
    ha_allowed_users: { type: 'array', nullable: true, items: { type: 'string', minLength: 1, maxLength: 128 } },
    clients: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['client_id', 'client_type', 'redirect_uris'],
        properties: {
          client_id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' },
          client_type: { type: 'string', enum: ['public', 'confidential'] },
          client_secret: { type: 'string', nullable: true },
          redirect_uris: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
          scopes: { type: 'array', nullable: true, items: { type: 'string', pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' } },
        },
      },
    },
    access_token_lifetime: { type: 'integer', nullable: true, minimum: 360, maximum: 86400 },
    auth_code_lifetime: { type: 'integer', nullable: true, minimum: 30, maximum: 600 },
    refresh_token_idle_lifetime: { type: 'integer', nullable: true, minimum: 86400, maximum: 315360000 },
    refresh_token_grace_generations: { type: 'integer', nullable: true, minimum: 2, maximum: 50 },
    refresh_token_grace_period: { type: 'integer', nullable: true, minimum: 3600, maximum: 7776000 },
    trusted_proxies: { type: 'array', nullable: true, items: { type: 'string', minLength: 1 } },
    log_level: { type: 'string', nullable: true, enum: LOG_LEVELS },
    resource_servers: {
      type: 'array',
      nullable: true,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'secret'],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' },
          secret: { type: 'string', minLength: 16, maxLength: 1024 },
        },
      },
    },
    notifications: { type: 'boolean', nullable: true },
  },
} as const satisfies JSONSchemaType<AddonOptions>;

/** A node of a JSON schema, as far as validatedSchema looks into it. */
interface SchemaNode {
  readonly [keyword: string]: unknown;
  readonly items?: SchemaNode;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
}

/**
 * The schema ajv runs: a schema without what JSONSchemaType needs only for typing. `nullable: true` types an
 * optional property, but options.json never holds null (the Supervisor leaves an unset option out) and the
 * validated options promise none, so null stays refused; a `type` beside an `enum` would add "must be string" to
 * "must be one of ...", which says it all.
 */
export function validatedSchema(schema: SchemaNode): SchemaNode {
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === 'nullable' || (keyword === 'type' && 'enum' in schema)) continue;
    out[keyword] = value;
  }
  if (schema.items) out.items = validatedSchema(schema.items);
  if (schema.properties)
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([name, node]) => [name, validatedSchema(node)]));
  return out;
}

/** Why each bound exists, and what to do: used to turn ajv's terse messages into an operator's fix. */
export const OPTION_HINTS: Record<string, string> = {
  access_token_lifetime: 'Alexa refuses tokens that live less than 360 seconds; use 3600',
  auth_code_lifetime: 'codes should live a few minutes (RFC 6749 §4.1.2 recommends at most 600); use 300',
  refresh_token_idle_lifetime: 'how long a link survives without use, in seconds; at least one day, default 34560000 (400 days)',
  refresh_token_grace_generations:
    'how many generations of earlier refresh tokens of a confidential client (Alexa) stay valid (retries and concurrent refreshes do not count): 2 to 50, default 10',
  refresh_token_grace_period:
    'how long, in seconds, an earlier refresh token of a confidential client stays valid: 3600 (an hour) to 7776000 (90 days), default 1209600 (14 days)',
  password: 'use a passphrase of at least 8 characters',
  client_id: 'printable ASCII without spaces, as entered in the Alexa console, e.g. amazon-alexa',
  scopes: 'scope names are printable ASCII without spaces, quotes or backslashes, e.g. music.read',
  log_level: 'one of error, warn, info, debug (failed links are warnings: error hides them)',
  ha_allowed_users:
    'Home Assistant usernames (the name you log in with, not the display name), e.g. [owner]; empty lets any Home Assistant user approve',
  secret: 'a resource server secret needs at least 16 characters; generate a random one',
};
