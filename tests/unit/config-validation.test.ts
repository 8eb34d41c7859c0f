/**
 * options.json -> Config: every problem is one line that names the option path, says what is wrong and how to fix
 * it; unknown keys are reported; access_token_lifetime below Alexa's 360 s is refused; all problems of a file are
 * reported at once.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { ConfigError, loadConfigFile, problemLine, validateOptions } from '../../src/config/load-config';
import { optionsSchema, validatedSchema } from '../../src/config/options-schema';
import { tempDataDir, testOptions } from '../helpers/test-server';

const FIX = 'set it in the add-on Configuration tab';

/** The problems validateOptions reports for `options` (fails the test if it accepts them). */
function problemsOf(options: unknown): string[] {
  try {
    validateOptions(options, FIX);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map(problemLine);
  }
  throw new Error('the options were accepted');
}

function withClient(patch: Record<string, unknown>): Record<string, unknown> {
  const options = testOptions();
  const clients = options.clients as Array<Record<string, unknown>>;
  clients[0] = { ...clients[0], ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete clients[0][k];
  return options;
}

const ISSUE_EXAMPLE = {
  public_url: 'https://dev.example.com',
  users: [{ username: 'owner', password: 'a long passphrase' }],
  clients: [
    {
      client_id: 'amazon-alexa',
      client_type: 'confidential',
      client_secret: 'copied into the Alexa console',
      redirect_uris: [
        'https://pitangui.amazon.com/api/skill/link/M2XXXXXXXXXXXX',
        'https://layla.amazon.com/api/skill/link/M2XXXXXXXXXXXX',
        'https://alexa.amazon.co.jp/api/skill/link/M2XXXXXXXXXXXX',
      ],
      scopes: ['music.read', 'music.control'],
    },
  ],
  access_token_lifetime: 3600,
  auth_code_lifetime: 300,
  trusted_proxies: [],
  log_level: 'info',
};

// The server runs code generated from the schema (src/config/options-validator.ts); this checks the schema itself.
it('the options schema is a valid JSON Schema', () => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  expect(ajv.validateSchema(validatedSchema(optionsSchema))).toBe(true);
  expect(ajv.errors ?? null).toBeNull();
});

describe('accepted', () => {
  it('the example options.json of the issue, mapped to the typed Config', () => {
    const { config } = validateOptions(ISSUE_EXAMPLE, FIX);
    expect(config).toMatchObject({
      publicUrl: 'https://dev.example.com',
      users: [{ username: 'owner', password: 'a long passphrase' }],
      clients: [
        {
          clientId: 'amazon-alexa',
          clientType: 'confidential',
          clientSecret: 'copied into the Alexa console',
          scopes: ['music.read', 'music.control'],
        },
      ],
      accessTokenLifetime: 3600,
      authCodeLifetime: 300,
      trustedProxies: [],
      logLevel: 'info',
    });
    expect(config.clients[0]?.redirectUris).toHaveLength(3);
  });

  it('the minimum: one client; defaults fill the rest', () => {
    const { config } = validateOptions(
      { clients: [{ client_id: 'app', client_type: 'public', redirect_uris: ['https://app.example.com/cb'] }] },
      FIX,
    );
    expect(config.accessTokenLifetime).toBe(3600);
    expect(config.authCodeLifetime).toBe(300);
    expect(config.logLevel).toBe('info');
    expect(config.users).toEqual([]);
    expect(config.clients).toHaveLength(1);
    expect(config.clients[0]?.clientSecret).toBeUndefined();
  });

  it('access_token_lifetime of exactly 360', () => {
    expect(validateOptions({ ...ISSUE_EXAMPLE, access_token_lifetime: 360 }, FIX).config.accessTokenLifetime).toBe(360);
  });

  it('an empty client_secret on a public client (what the Supervisor writes for a cleared field)', () => {
    expect(() => validateOptions(withClient({ client_type: 'public', client_secret: '' }), FIX)).not.toThrow();
  });

  it('http redirect URIs on loopback, for local testing', () => {
    expect(() => validateOptions(withClient({ redirect_uris: ['http://localhost:3000/cb', 'http://127.0.0.1/cb'] }), FIX)).not.toThrow();
  });

  it('trusted_proxies as IPs, CIDR ranges and named ranges', () => {
    const { config } = validateOptions(
      { ...ISSUE_EXAMPLE, trusted_proxies: ['172.30.32.2', '172.30.32.0/23', 'fd00::/8', 'loopback'] },
      FIX,
    );
    expect(config.trustedProxies).toHaveLength(4);
  });

  it('public_url loses its trailing slash', () => {
    expect(validateOptions({ ...ISSUE_EXAMPLE, public_url: 'https://ha.example.com/prefix/' }, FIX).config.publicUrl).toBe(
      'https://ha.example.com/prefix',
    );
  });

  it('a redirect URI pasted with spaces around it is matched without them, with a warning naming it', () => {
    const uri = 'https://layla.amazon.com/api/skill/link/M2TESTVENDOR';
    const { config, warnings } = validateOptions(withClient({ redirect_uris: [` ${uri}\t`, `${uri} `] }), FIX);
    expect(config.clients[0]?.redirectUris).toEqual([uri]);
    expect(warnings.map(problemLine)).toEqual([
      expect.stringMatching(/^clients\[0\]\.redirect_uris\[0\]: ".*" has white space before or after it; .*remove the spaces/),
      expect.stringMatching(/^clients\[0\]\.redirect_uris\[1\]: ".*" has white space before or after it; /),
      expect.stringMatching(/^clients\[0\]\.redirect_uris\[1\]: ".*" is listed twice/),
    ]);
  });

  it.each([
    ['an upper-case host', 'https://LAYLA.amazon.com/api/skill/link/M2X'],
    ['an upper-case scheme', 'HTTPS://layla.amazon.com/api/skill/link/M2X'],
    ['the default port', 'https://layla.amazon.com:443/api/skill/link/M2X'],
    ['a backslash', 'https://layla.amazon.com\\api/skill/link/M2X'],
    ['a dot segment', 'https://layla.amazon.com/api/x/../skill/link/M2X'],
  ])('a redirect URI with %s is kept as written, with a warning giving the form clients send', (_what, uri) => {
    const { config, warnings } = validateOptions(withClient({ redirect_uris: [uri] }), FIX);
    expect(config.clients[0]?.redirectUris).toEqual([uri]);
    const sent = 'https://layla.amazon.com/api/skill/link/M2X';
    expect(warnings.map(problemLine)).toEqual([
      `clients[0].redirect_uris[0]: clients send "${uri}" as "${sent}": compared exactly, it would never match; write it as "${sent}"`,
    ]);
  });

  it('redirect URIs as clients send them raise no warning, loopback ports and IPv6 included', () => {
    const uris = [
      'https://layla.amazon.com/api/skill/link/M2X',
      'http://localhost:3000/cb',
      'http://[::1]:8080/cb',
      'http://localhost:3000',
    ];
    expect(validateOptions(withClient({ redirect_uris: uris }), FIX).warnings).toEqual([]);
  });

  it('a short client secret is a warning, not an error', () => {
    const { warnings } = validateOptions(withClient({ client_secret: 'short' }), FIX);
    expect(warnings.map(problemLine)).toEqual([expect.stringMatching(/^clients\[0\]\.client_secret: only 5 characters/)]);
  });
});

describe('refused, one line per problem naming the option path and the fix', () => {
  it('a confidential client without client_secret: the exact line of the issue', () => {
    expect(problemsOf(withClient({ client_secret: undefined }))).toEqual([
      'clients[0].client_secret: required when client_type is confidential; set it in the add-on Configuration tab',
    ]);
  });

  it('a confidential client with an empty client_secret', () => {
    expect(problemsOf(withClient({ client_secret: '' }))).toEqual([
      expect.stringMatching(/^clients\[0\]\.client_secret: required when client_type is confidential; /),
    ]);
  });

  it('a public client with a secret', () => {
    expect(problemsOf(withClient({ client_type: 'public', client_secret: 'a-secret-for-nothing-at-all' }))).toEqual([
      expect.stringMatching(/^clients\[0\]\.client_secret: a public client has no secret; remove it, or set client_type to confidential/),
    ]);
  });

  it.each([359, 0, -1])("access_token_lifetime %i: below Alexa's minimum of 360", (value) => {
    expect(problemsOf({ ...ISSUE_EXAMPLE, access_token_lifetime: value })).toEqual([
      expect.stringMatching(/^access_token_lifetime: must be at least 360; Alexa refuses tokens that live less than 360 seconds; use 3600/),
    ]);
  });

  it('access_token_lifetime as a string', () => {
    expect(problemsOf({ ...ISSUE_EXAMPLE, access_token_lifetime: '3600' })).toEqual([
      expect.stringMatching(/^access_token_lifetime: must be integer/),
    ]);
  });

  it('null is no value: an optional option set to null is refused (the Supervisor leaves an unset option out)', () => {
    expect(problemsOf({ ...ISSUE_EXAMPLE, public_url: null, access_token_lifetime: null })).toEqual([
      `public_url: must be string; ${FIX}`,
      expect.stringMatching(/^access_token_lifetime: must be integer; /),
    ]);
    expect(problemsOf({ ...ISSUE_EXAMPLE, log_level: null })).toEqual([`log_level: must be one of error, warn, info, debug; ${FIX}`]);
  });

  it('a choice of the wrong type is one problem, naming the choices', () => {
    expect(problemsOf({ ...ISSUE_EXAMPLE, log_level: 3 })).toEqual([`log_level: must be one of error, warn, info, debug; ${FIX}`]);
  });

  it('an unknown top-level key', () => {
    expect(problemsOf({ ...ISSUE_EXAMPLE, log_levle: 'debug' })).toEqual([
      'log_levle: unknown option (misspelt, or from another version); remove it or correct its name',
    ]);
  });

  it('an unknown key inside a client and inside a user', () => {
    const options = {
      ...ISSUE_EXAMPLE,
      users: [{ username: 'owner', password: 'a long passphrase', admin: true }],
      clients: [{ ...ISSUE_EXAMPLE.clients[0], scope: ['x'] }],
    };
    expect(problemsOf(options).sort()).toEqual([
      'clients[0].scope: unknown option (misspelt, or from another version); remove it or correct its name',
      'users[0].admin: unknown option (misspelt, or from another version); remove it or correct its name',
    ]);
  });

  it('no clients key, and an empty clients list', () => {
    expect(problemsOf({ users: [] })).toEqual([`clients: required but missing; ${FIX}`]);
    expect(problemsOf({ clients: [] })).toEqual([`clients: must list at least 1 entry; ${FIX}`]);
  });

  it('a client_type that is neither public nor confidential', () => {
    expect(problemsOf(withClient({ client_type: 'Confidential' }))).toContain(
      `clients[0].client_type: must be one of public, confidential; ${FIX}`,
    );
  });

  it('a password shorter than 8 characters', () => {
    expect(problemsOf({ ...ISSUE_EXAMPLE, users: [{ username: 'owner', password: 'short' }] })).toEqual([
      expect.stringMatching(/^users\[0\]\.password: must be at least 8 characters; /),
    ]);
  });

  it.each([
    ['plain http on a public host', 'http://layla.amazon.com/api/skill/link/M2X', /must use https/],
    ['a relative URL', '/api/skill/link/M2X', /is not an absolute URL/],
    ['a fragment', 'https://layla.amazon.com/api/skill/link/M2X#frag', /must not contain a fragment/],
  ])('a redirect URI with %s', (_what, uri, message) => {
    expect(problemsOf(withClient({ redirect_uris: [uri] }))).toEqual([
      expect.stringMatching(new RegExp(`^clients\\[0\\]\\.redirect_uris\\[0\\]: .*${message.source}`)),
    ]);
  });

  it('the same client_id twice', () => {
    const options = testOptions();
    const clients = options.clients as unknown[];
    clients.push(clients[0]);
    expect(problemsOf(options)).toContain(
      `clients[${clients.length - 1}].client_id: "amazon-alexa" is listed twice; give each client its own client_id`,
    );
  });

  it('the same username twice', () => {
    expect(problemsOf({ ...ISSUE_EXAMPLE, users: [ISSUE_EXAMPLE.users[0], ISSUE_EXAMPLE.users[0]] })).toEqual([
      'users[1].username: "owner" is listed twice; keep one entry per user',
    ]);
  });

  it('a trusted proxy that is not an address or range', () => {
    expect(problemsOf({ ...ISSUE_EXAMPLE, trusted_proxies: ['my-proxy', '10.0.0.0/33'] })).toEqual([
      expect.stringMatching(/^trusted_proxies\[0\]: "my-proxy" is not an IP address/),
      expect.stringMatching(/^trusted_proxies\[1\]: "10.0.0.0\/33" is not an IP address/),
    ]);
  });

  it.each([
    ['not a URL', 'ha.example.com', /not an absolute URL/],
    ['with a query', 'https://ha.example.com/?x=1', /must not contain a query/],
    ['ftp', 'ftp://ha.example.com', /must start with https/],
  ])('a public_url %s', (_what, url, message) => {
    expect(problemsOf({ ...ISSUE_EXAMPLE, public_url: url })).toEqual([
      expect.stringMatching(new RegExp(`^public_url: .*${message.source}`)),
    ]);
  });

  it('a log_level that does not exist', () => {
    expect(problemsOf({ ...ISSUE_EXAMPLE, log_level: 'verbose' })).toEqual([`log_level: must be one of error, warn, info, debug; ${FIX}`]);
  });

  it('a file that is not an object', () => {
    expect(problemsOf([ISSUE_EXAMPLE])).toEqual([expect.stringMatching(/^\(top level\): must be object/)]);
  });

  it('every problem of a file at once: schema problems and the checks beyond the schema together', () => {
    const options = {
      ...ISSUE_EXAMPLE,
      access_token_lifetime: 300,
      colour: 'blue',
      clients: [{ ...ISSUE_EXAMPLE.clients[0], client_secret: '', redirect_uris: ['http://layla.amazon.com/api/skill/link/M2X'] }, 42],
      trusted_proxies: ['proxy.local'],
    };
    const problems = problemsOf(options);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^access_token_lifetime: must be at least 360/),
        expect.stringMatching(/^colour: unknown option/),
        expect.stringMatching(/^clients\[1\]: must be object/),
        expect.stringMatching(/^clients\[0\]\.client_secret: required when client_type is confidential/),
        expect.stringMatching(/^clients\[0\]\.redirect_uris\[0\]: .*must use https/),
        expect.stringMatching(/^trusted_proxies\[0\]: "proxy.local" is not an IP address/),
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('every line has the shape "<option path>: <what is wrong>; <how to fix it>"', () => {
    const problems = problemsOf({
      colour: 1,
      clients: [{ client_id: '', client_type: 'x', redirect_uris: [] }],
      auth_code_lifetime: 5,
      users: [{}],
    });
    expect(problems.length).toBeGreaterThanOrEqual(5);
    for (const p of problems) expect(p).toMatch(/^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: [^;]+; .+/);
  });
});

describe('reading the file', () => {
  const fileWith = (text: string) => {
    const file = path.join(tempDataDir(), 'options.json');
    writeFileSync(file, text);
    return file;
  };
  const problemsOfFile = (file: string) => {
    try {
      loadConfigFile(file, FIX);
    } catch (err) {
      return (err as ConfigError).problems.map(problemLine);
    }
    throw new Error('accepted');
  };

  it('invalid JSON names the line and column', () => {
    const file = fileWith('{\n  "clients": [\n    {"client_id": "a",}\n  ]\n}\n');
    expect(problemsOfFile(file)).toEqual([
      expect.stringMatching(new RegExp(`^${file}: not valid JSON at line 3, column \\d+ .*; ${FIX}$`)),
    ]);
  });

  it('a truncated file names the line where it stops', () => {
    // V8 reports this one as "Unexpected end of JSON input", without a position
    const file = fileWith('{\n  "users": [],\n  "clients": [\n');
    expect(problemsOfFile(file)).toEqual([expect.stringMatching(/not valid JSON at line 3, column 15 /)]);
  });

  it('an empty file says so', () => {
    expect(problemsOfFile(fileWith(''))).toEqual([expect.stringMatching(/the file is empty/)]);
  });

  it('a missing file names the error code', () => {
    expect(problemsOfFile(path.join(tempDataDir(), 'nope.json'))).toEqual([expect.stringMatching(/cannot be read \(ENOENT\)/)]);
  });
});
