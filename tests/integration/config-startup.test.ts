/**
 * Start-up of `node dist/main.js` as the add-on runs it: a bad options.json stops it with a non-zero exit and one
 * log line per problem (option path, what is wrong, the fix); a missing options.json outside the add-on writes
 * working local defaults (secrets in the file, never in the log) and the server starts and links with them.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Browser, alexaAuthorize, linkInBrowser, tokenRequest } from '../helpers/alexa-client';
import { ALEXA_REDIRECT, ServerProcess, killServer, runToExit, spawnServer, tempDataDir, testOptions } from '../helpers/test-server';
import { defined } from '../helpers/defined';

function dataDirWith(options: string | Record<string, unknown>): string {
  const dataDir = tempDataDir();
  writeFileSync(path.join(dataDir, 'options.json'), typeof options === 'string' ? options : JSON.stringify(options, null, 2));
  return dataDir;
}

/** The ERROR lines of the output, without timestamp and level. */
function errorLines(output: string): string[] {
  return output
    .split('\n')
    .map((l) => /^\S+ ERROR (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
}

describe('a bad options.json stops the server', () => {
  it('exits non-zero with one line per problem, each naming the option and the fix', async () => {
    const options = testOptions({ access_token_lifetime: 300, log_levle: 'debug' });
    delete defined((options.clients as Array<Record<string, unknown>>)[0], 'a client').client_secret;
    const dataDir = dataDirWith(options);
    const optionsFile = path.join(dataDir, 'options.json');
    const { code, output } = await runToExit(dataDir);
    expect(code).toBe(78);
    const lines = errorLines(output);
    expect(lines[0]).toBe(`cannot start: 3 problem(s) in ${optionsFile}`);
    expect(lines.slice(1).sort()).toEqual([
      expect.stringMatching(
        /^access_token_lifetime: must be at least 360; Alexa refuses tokens that live less than 360 seconds; use 3600; edit .*options\.json$/,
      ),
      `clients[0].client_secret: required when client_type is confidential; edit ${optionsFile}`,
      'log_levle: unknown option (misspelt, or from another version); remove it or correct its name',
    ]);
    expect(output).not.toMatch(/listening on/);
  });

  it('inside the add-on the fix points at the Configuration tab', async () => {
    const options = testOptions();
    delete defined((options.clients as Array<Record<string, unknown>>)[0], 'a client').client_secret;
    const { code, output } = await runToExit(dataDirWith(options), {
      SUPERVISOR_TOKEN: 'test-token',
      SUPERVISOR_URL: 'http://127.0.0.1:9',
    });
    expect(code).toBe(78);
    expect(errorLines(output)).toContain(
      'clients[0].client_secret: required when client_type is confidential; set it in the add-on Configuration tab',
    );
  });

  it('invalid JSON names the line', async () => {
    const { code, output } = await runToExit(dataDirWith('{\n  "clients": [\n    { "client_id": "amazon-alexa", }\n  ]\n}\n'));
    expect(code).toBe(78);
    expect(errorLines(output)[1]).toMatch(/options\.json: not valid JSON at line 3, column \d+/);
  });

  it('inside the add-on a missing options.json is an error, not a reason to invent one', async () => {
    const dataDir = tempDataDir();
    const { code, output } = await runToExit(dataDir, { SUPERVISOR_TOKEN: 'test-token', SUPERVISOR_URL: 'http://127.0.0.1:9' });
    expect(code).toBe(78);
    expect(output).toMatch(/options\.json: cannot be read \(ENOENT\); set it in the add-on Configuration tab/);
  });

  it('a PORT that is not a port number', async () => {
    const { code, output } = await runToExit(dataDirWith(testOptions()), { PORT: 'eighty' });
    expect(code).not.toBe(0);
    expect(output).toMatch(/PORT: "eighty" is not a port number/);
  });
});

describe('no options.json outside the add-on', () => {
  let proc: ServerProcess | undefined;
  afterEach(() => killServer(proc));

  it('writes local defaults (mode 0600, secrets not logged), starts, and links with them', async () => {
    const dataDir = tempDataDir();
    proc = await spawnServer(dataDir);
    const file = path.join(dataDir, 'options.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const defaults = JSON.parse(readFileSync(file, 'utf8')) as {
      users: Array<{ username: string; password: string }>;
      clients: Array<{ client_id: string; client_secret: string; redirect_uris: string[] }>;
    };
    const user = defined(defaults.users[0], 'a default user');
    const client = defined(defaults.clients[0], 'a default client');
    expect(client.client_id).toBe('amazon-alexa');
    expect(proc.output()).toContain(file);
    expect(proc.output()).not.toContain(user.password);
    expect(proc.output()).not.toContain(client.client_secret);

    const health = await fetch(`${proc.url}/health`);
    expect(health.status).toBe(200);

    const redirectUri = defined(client.redirect_uris[1], 'a second redirect URI');
    const redirect = await linkInBrowser(
      new Browser(proc.url),
      { client_id: client.client_id, redirect_uri: redirectUri, response_type: 'code', state: 's' },
      user,
    );
    const res = await tokenRequest(
      proc.url,
      { grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, redirect_uri: redirectUri },
      'basic',
      client.client_id,
      client.client_secret,
    );
    expect(res.status).toBe(200);

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    // the next start keeps the same file and secrets
    proc = await spawnServer(dataDir);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(defaults);
  });
});

describe('a redirect URI pasted with spaces around it', () => {
  let proc: ServerProcess | undefined;
  afterEach(() => killServer(proc));

  it('starts with a warning naming it, and Alexa links with the URI as it sends it', async () => {
    const options = testOptions();
    const alexa = defined((options.clients as Array<Record<string, unknown>>)[0], 'the Alexa client');
    alexa.redirect_uris = [` ${ALEXA_REDIRECT} `];
    proc = await spawnServer(tempDataDir(), options);
    expect(proc.output()).toMatch(
      / WARN +configuration: clients\[0\]\.redirect_uris\[0\]: ".*" has white space before or after it; .*remove the spaces/,
    );
    const redirect = await linkInBrowser(new Browser(proc.url), alexaAuthorize({ redirect_uri: ALEXA_REDIRECT }));
    const res = await tokenRequest(proc.url, {
      grant_type: 'authorization_code',
      code: redirect.searchParams.get('code')!,
      redirect_uri: ALEXA_REDIRECT,
    });
    expect(res.status).toBe(200);
  });
});
