/**
 * JSON Schema of DATA_DIR/options.json, the file the Home Assistant Supervisor writes from the add-on's
 * Configuration tab. config.yaml's `schema` mirrors this (tests/addon keeps the two in step).
 * additionalProperties is false everywhere so a misspelt key is reported instead of silently ignored.
 */
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

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['clients'],
  properties: {
    public_url: { type: 'string' },
    users: {
      type: 'array',
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
    ha_allowed_users: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 } },
    clients: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['client_id', 'client_type', 'redirect_uris'],
        properties: {
          client_id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' },
          client_type: { enum: ['public', 'confidential'] },
          client_secret: { type: 'string' },
          redirect_uris: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
          scopes: { type: 'array', items: { type: 'string', pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' } },
        },
      },
    },
    access_token_lifetime: { type: 'integer', minimum: 360, maximum: 86400 },
    auth_code_lifetime: { type: 'integer', minimum: 30, maximum: 600 },
    refresh_token_idle_lifetime: { type: 'integer', minimum: 86400, maximum: 315360000 },
    refresh_token_grace_generations: { type: 'integer', minimum: 2, maximum: 50 },
    refresh_token_grace_period: { type: 'integer', minimum: 3600, maximum: 7776000 },
    trusted_proxies: { type: 'array', items: { type: 'string', minLength: 1 } },
    log_level: { enum: [...LOG_LEVELS] },
    resource_servers: {
      type: 'array',
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
    notifications: { type: 'boolean' },
  },
} as const;

/** Why each bound exists, and what to do: used to turn ajv's terse messages into an operator's fix. */
export const OPTION_HINTS: Record<string, string> = {
  access_token_lifetime: 'Alexa refuses tokens that live less than 360 seconds; use 3600',
  auth_code_lifetime: 'codes should live a few minutes (RFC 6749 §4.1.2 recommends at most 600); use 300',
  refresh_token_idle_lifetime:
    'how long a link survives without use, in seconds; at least one day, default 34560000 (400 days)',
  refresh_token_grace_generations:
    'how many earlier refresh tokens of a confidential client (Alexa) stay valid after newer ones were issued: 2 to 50, default 10',
  refresh_token_grace_period:
    'how long, in seconds, an earlier refresh token of a confidential client stays valid: 3600 (an hour) to 7776000 (90 days), default 1209600 (14 days)',
  password: 'use a passphrase of at least 8 characters',
  client_id: 'printable ASCII without spaces, as entered in the Alexa console, e.g. amazon-alexa',
  scopes: 'scope names are printable ASCII without spaces, quotes or backslashes, e.g. music.read',
  log_level: 'one of error, warn, info, debug',
  ha_allowed_users: 'Home Assistant usernames (the name you log in with, not the display name), e.g. [owner]; empty lets any Home Assistant user approve',
  secret: 'a resource server secret needs at least 16 characters; generate a random one',
};
