/**
 * Every kind of bad options file against `node dist/main.js`: the process exits 78 (EX_CONFIG: the add-on's s6
 * finish script halts instead of restarting into the same error; tests/addon/supervision.test.ts runs that under
 * s6), prints `cannot start: N problem(s) in <file>` and then exactly one line per problem, each naming the
 * option path (or the file), what is wrong and the fix; no stack trace, no "listening", no secret in the log.
 * A missing options file outside the add-on starts the server with the documented local defaults.
 */
import { expect } from '@jest/globals';
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ServerProcess, runToExit, spawnServer, tempDataDir, testOptions } from '../helpers/test-server';
import { chattrWorks, hasCommand, setImmutable, stopGracefully } from './helpers';
import { defined } from '../helpers/defined';

jest.setTimeout(120_000);

/** options.json as these tests bend it: any option may hold a value of the wrong type on purpose. */
interface Options {
  [option: string]: unknown;
  clients: Array<Record<string, unknown>>;
  users: Array<Record<string, unknown>>;
}
const client = (o: Options, i: number) => defined(o.clients[i], `clients[${i}]`);
const user = (o: Options, i: number) => defined(o.users[i], `users[${i}]`);
const opts = (mutate: (o: Options) => void = () => undefined): Options => {
  const o = JSON.parse(JSON.stringify(testOptions())) as Options; // deep: testOptions shares OWNER
  mutate(o);
  return o;
};

function dataDirWith(content: string | Buffer | Record<string, unknown> | undefined): string {
  const dataDir = tempDataDir();
  if (content !== undefined) {
    writeFileSync(
      path.join(dataDir, 'options.json'),
      typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 2),
    );
  }
  return dataDir;
}

/** The ERROR lines, without timestamp and level. */
const errorLines = (output: string) =>
  output
    .split('\n')
    .map((l) => /^\S+ ERROR (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);

async function expectRefused(dataDir: string, problems: RegExp[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const file = path.join(dataDir, 'options.json');
  const { code, output } = await runToExit(dataDir, env);
  const lines = errorLines(output);
  expect({ code, first: lines[0] }).toEqual({ code: 78, first: `cannot start: ${problems.length} problem(s) in ${file}` });
  const rest = lines.slice(1);
  expect(rest).toHaveLength(problems.length);
  for (const p of problems) expect(rest).toEqual(expect.arrayContaining([expect.stringMatching(p)]));
  for (const line of rest) expect(line).toMatch(/; /); // every line carries its fix after "; "
  expect(output).not.toMatch(/listening on|\n\s+at .+:\d+:\d+\)?\n|fatal:/);
  return rest;
}

describe('a bad options file stops the server with exit 78 and one line per problem', () => {
  it.each<[string, string | Buffer | Record<string, unknown>, RegExp[]]>([
    ['invalid JSON: a trailing comma', '{\n  "clients": [],\n}\n', [/options\.json: not valid JSON at line 3, column 1 .*; edit /]],
    [
      'invalid JSON: a missing closing brace',
      '{\n  "clients": [\n',
      [/not valid JSON at line 2, column \d+ \(Unexpected end of JSON input\)/],
    ],
    [
      'invalid JSON: a value without quotes',
      '{\n  "clients": [],\n  "users": [{"username": "owner", "password": hunter2-secret-pass}]\n}\n',
      [/not valid JSON at line 3, column 47 \(unexpected character\)/],
    ],
    ['invalid JSON: single quotes', "{ 'clients': [] }", [/not valid JSON at line 1, column 3/]],
    ['an empty file', '', [/options\.json: the file is empty; .*"clients"/]],
    ['a file of blanks', '  \n\n  ', [/the file is empty/]],
    [
      'not UTF-8 (a Latin-1 password)',
      Buffer.concat([
        Buffer.from('{"clients": [], "users": [{"username": "owner", "password": "p'),
        Buffer.from([0xe4]),
        Buffer.from('sswort-long"}]}'),
      ]),
      [/not valid UTF-8 .*save it as UTF-8/],
    ],
    ['JSON that is not an object', '[1, 2, 3]', [/^\(top level\): must be object/]],
    ['JSON null', 'null', [/^\(top level\): must be object/]],
    [
      'wrong types',
      opts((o) => {
        o.access_token_lifetime = '3600';
        Object.assign(o, { users: { username: 'owner' } }); // not a list, on purpose
        client(o, 0).redirect_uris = 'https://layla.amazon.com/api/skill/link/M2TESTVENDOR';
        o.log_level = 3;
      }),
      [
        /^access_token_lifetime: must be integer/,
        /^users: must be array/,
        /^clients\[0\]\.redirect_uris: must be array/,
        /^log_level: must be one of error, warn, info, debug/,
      ],
    ],
    [
      'unknown keys, at the top and inside a client',
      opts((o) => {
        o.acces_token_lifetime = 3600;
        client(o, 0).secret = 'x';
      }),
      [/^acces_token_lifetime: unknown option .*remove it or correct its name$/, /^clients\[0\]\.secret: unknown option/],
    ],
    [
      'missing required options',
      opts((o) => {
        delete client(o, 0).redirect_uris;
        delete client(o, 1).client_type;
      }),
      [/^clients\[0\]\.redirect_uris: required but missing; /, /^clients\[1\]\.client_type: required but missing; /],
    ],
    ['no clients at all', { users: [] }, [/^clients: required but missing; /]],
    [
      'an empty client list',
      opts((o) => {
        o.clients = [];
      }),
      [/^clients: must list at least 1 entry/],
    ],
    [
      'values out of range',
      opts((o) => {
        o.access_token_lifetime = 300;
        o.auth_code_lifetime = 3600;
        user(o, 0).password = 'short';
      }),
      [
        /^access_token_lifetime: must be at least 360; Alexa refuses/,
        /^auth_code_lifetime: must be at most 600; /,
        /^users\[0\]\.password: must be at least 8 characters; /,
      ],
    ],
    [
      'bad URLs',
      opts((o) => {
        o.public_url = 'ftp://ha.example.com';
        client(o, 0).redirect_uris = [
          'not a url',
          'http://layla.amazon.com/api/skill/link/M2TESTVENDOR',
          'https://pitangui.amazon.com/api/skill/link/M2TESTVENDOR#frag',
        ];
      }),
      [
        /^public_url: must start with https:\/\//,
        /^clients\[0\]\.redirect_uris\[0\]: "not a url" is not an absolute URL/,
        /^clients\[0\]\.redirect_uris\[1\]: .* must use https/,
        /^clients\[0\]\.redirect_uris\[2\]: a redirect URI must not contain a fragment/,
      ],
    ],
    [
      'a public_url with a query',
      opts((o) => {
        o.public_url = 'https://ha.example.com/?x=1';
      }),
      [/^public_url: must not contain a query/],
    ],
    [
      'duplicate ids',
      opts((o) => {
        o.clients.push({ ...client(o, 0) });
        o.users.push({ ...user(o, 0) });
      }),
      [/^clients\[2\]\.client_id: "amazon-alexa" is listed twice/, /^users\[1\]\.username: "owner" is listed twice/],
    ],
    [
      'a client type and secret that do not fit',
      opts((o) => {
        delete client(o, 0).client_secret;
        client(o, 1).client_secret = 'a secret for a public client';
      }),
      [
        /^clients\[0\]\.client_secret: required when client_type is confidential; /,
        /^clients\[1\]\.client_secret: a public client has no secret/,
      ],
    ],
    [
      'a trusted proxy that is no address',
      opts((o) => {
        o.trusted_proxies = ['10.0.0.0/33', 'my-proxy'];
      }),
      [/^trusted_proxies\[0\]: "10\.0\.0\.0\/33" is not an IP address/, /^trusted_proxies\[1\]: "my-proxy" is not an IP address/],
    ],
  ])('%s', async (_name, content, problems) => {
    await expectRefused(dataDirWith(content), problems);
  });

  it('a syntax error near a secret does not print the secret', async () => {
    const dataDir = dataDirWith('{"clients": [{"client_id": "amazon-alexa", "client_secret": s3cr3t-do-not-log-me}]}');
    const { code, output } = await runToExit(dataDir);
    expect(code).toBe(78);
    expect(output).not.toMatch(/s3cr3t|do-not-log/);
    expect(output).toMatch(/not valid JSON at line 1, column \d+ \(unexpected character\)/);
  });

  it('a byte-order mark (Windows editors) is not an error', async () => {
    const dataDir = dataDirWith(`\uFEFF${JSON.stringify(testOptions())}`);
    const proc = await spawnServer(dataDir);
    await stopGracefully(proc);
  });

  it('a directory where the file should be', async () => {
    const dataDir = dataDirWith(undefined);
    mkdirSync(path.join(dataDir, 'options.json'));
    await expectRefused(dataDir, [/options\.json: cannot be read \(EISDIR: it is a directory, not a file\); edit /]);
  });

  it('a broken symbolic link', async () => {
    const dataDir = dataDirWith(undefined);
    symlinkSync(path.join(dataDir, 'nowhere.json'), path.join(dataDir, 'options.json'));
    await expectRefused(dataDir, [/options\.json: cannot be read \(ENOENT\); edit /]);
  });

  const unprivileged = hasCommand('setpriv') && process.getuid?.() === 0;
  (unprivileged ? it : it.skip)('a file the server is not allowed to read (server running as an unprivileged user)', async () => {
    const dataDir = dataDirWith(opts());
    chmodSync(dataDir, 0o755);
    chmodSync(path.join(dataDir, 'options.json'), 0o600);
    chownSync(path.join(dataDir, 'options.json'), 0, 0);
    const { code, output } = await runAs(dataDir);
    expect(code).toBe(78);
    expect(errorLines(output)).toEqual([
      `cannot start: 1 problem(s) in ${path.join(dataDir, 'options.json')}`,
      expect.stringMatching(/options\.json: cannot be read \(EACCES: permission denied\); edit /),
    ]);
  });

  it('inside the add-on, a missing file is refused (the Supervisor always writes one) with the Configuration tab as the fix', async () => {
    await expectRefused(dataDirWith(undefined), [/options\.json: cannot be read \(ENOENT\); set it in the add-on Configuration tab$/], {
      SUPERVISOR_TOKEN: 't',
      SUPERVISOR_URL: 'http://127.0.0.1:9',
    });
  });

  it('every refusal ends the process promptly (no hang, no retry loop)', async () => {
    const started = Date.now();
    const { code } = await runToExit(dataDirWith('{'));
    expect(code).toBe(78);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('a missing options file outside the add-on', () => {
  let proc: ServerProcess | undefined;
  afterEach(async () => stopGracefully(proc));

  it('starts with the documented local defaults, written to the file with mode 0600', async () => {
    const dataDir = tempDataDir();
    proc = await spawnServer(dataDir);
    const file = path.join(dataDir, 'options.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(file, 'utf8')) as {
      clients: Array<{ client_secret: string }>;
      users: Array<{ password: string }>;
    };
    expect(written).toEqual(
      expect.objectContaining({ access_token_lifetime: 3600, auth_code_lifetime: 300, trusted_proxies: [], log_level: 'info' }),
    );
    expect(written.clients).toEqual([
      expect.objectContaining({
        client_id: 'amazon-alexa',
        client_type: 'confidential',
        client_secret: expect.stringMatching(/^\S{24,}$/),
      }),
    ]);
    expect(written.users).toEqual([expect.objectContaining({ username: 'owner' })]);
    expect(proc.output()).toMatch(/no options file: wrote local defaults/);
    expect(proc.output()).not.toContain(defined(written.clients[0], 'a client').client_secret);
    expect(proc.output()).not.toContain(defined(written.users[0], 'a user').password);
  });

  it('a DATA_DIR that runs through a file is one line and exit 78', async () => {
    const blocker = path.join(tempDataDir(), 'a-file');
    writeFileSync(blocker, 'not a folder');
    const { code, output } = await runToExit(tempDataDir(), { DATA_DIR: path.join(blocker, 'data') });
    expect(code).toBe(78);
    expect(errorLines(output)[1]).toMatch(
      /options\.json: cannot be read \(ENOTDIR: a part of its path is a file, not a folder \(check DATA_DIR\)\); edit /,
    );
  });

  (chattrWorks(tempDataDir()) ? it : it.skip)(
    'a data folder where the defaults cannot be written (immutable) is one line and exit 78',
    async () => {
      const dataDir = tempDataDir();
      setImmutable([dataDir], true);
      try {
        const { code, output } = await runToExit(dataDir);
        expect(code).toBe(78);
        expect(errorLines(output)[1]).toMatch(
          /options\.json: does not exist and local defaults cannot be written there \(EPERM\); create the file, or set DATA_DIR to a writable folder/,
        );
      } finally {
        setImmutable([dataDir], false);
      }
    },
  );
});

/** runToExit, but as user nobody (setpriv), so that file permissions apply. */
async function runAs(dataDir: string): Promise<{ code: number | null; output: string }> {
  const { spawn } = await import('node:child_process');
  const main = path.join(__dirname, '..', '..', 'dist', 'main.js');
  const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, main], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, output };
}
