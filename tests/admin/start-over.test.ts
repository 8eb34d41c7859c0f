/**
 * The way out of a missing or damaged database for an operator without a backup, and without a shell: the admin
 * page's Status offers to start over with an empty database. It asks first, needs the page's own form token, keeps
 * what is left of the old files under another name, records who did it, and is refused while the database is
 * usable. The server itself never starts an empty database in place of a missing one (tests/reliability).
 */
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { linkAccount, refresh } from '../helpers/alexa-client';
import { defined } from '../helpers/defined';
import { waitForTrace } from '../helpers/test-server';
import { AdminServer, csrfOf, fromProxy as proxied, startWithAdmin } from './admin-helpers';

let server: AdminServer;
beforeEach(async () => {
  server = await startWithAdmin();
});
afterEach(async () => server.stop());

const fromProxy = (urlPath: string) => proxied(server).get(urlPath);
const post = (urlPath: string, form: Record<string, string>) => proxied(server).post(urlPath, form);
const health = async () => (await fetch(`${server.url}/health`)).status;

it('a database deleted while the server runs: offered on the Status page, refused without the form token, done with it', async () => {
  const tokens = await linkAccount(server.url);
  rmSync(path.join(server.dataDir, 'oauth.sqlite'));
  expect(await health()).toBe(503);

  const status = await fromProxy('/');
  expect(status.body).toContain('No backup? Start over with an empty database');
  const confirm = await fromProxy('/database/start-over');
  expect(confirm.status).toBe(200);
  expect(confirm.body).toMatch(/every Alexa user has to link the skill again/);
  const csrf = csrfOf(confirm.body);

  for (const form of [{ confirm: 'start-over' }, { csrf }, { csrf: 'lz0.forged', confirm: 'start-over' }] as Array<
    Record<string, string>
  >) {
    const refused = await post('/database/start-over', form);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('Nothing was changed');
  }
  expect(await health()).toBe(503);

  const done = await post('/database/start-over', { csrf, confirm: 'start-over' });
  expect(done.status).toBe(303);
  expect(await health()).toBe(200);
  // An empty database: the old link is gone (Alexa links again), and linking works.
  expect((await refresh(server.url, tokens.refresh_token)).status).toBe(400);
  expect((await linkAccount(server.url)).refresh_token).toBeTruthy();
  // What was left of the old database is kept, never deleted.
  const kept = readdirSync(server.dataDir).filter((f) => f.startsWith('oauth.sqlite.replaced-'));
  expect(kept.length).toBeGreaterThan(0);
  expect(kept.every((f) => /^oauth\.sqlite\.replaced-\d{8}T\d{6}Z(-wal|-shm)?$/.test(f))).toBe(true);
  const entry = await waitForTrace(server.dataDir, (e) => e.step === 'admin' && e.detail?.action === 'start-over');
  expect([...(entry.detail?.kept as string[])].sort()).toEqual(kept.sort());
  expect((await fromProxy('/activity')).body).toMatch(/Database started over, empty, by/);
});

it('a database damaged while the server runs: started over, the damaged file kept', async () => {
  await linkAccount(server.url);
  const file = path.join(server.dataDir, 'oauth.sqlite');
  const garbage = Buffer.alloc(statSync(file).size, 0x5a);
  writeFileSync(file, garbage);
  expect(await health()).toBe(503);
  const confirm = await fromProxy('/database/start-over');
  expect(confirm.body).toMatch(/the file is damaged/);
  expect((await post('/database/start-over', { csrf: csrfOf(confirm.body), confirm: 'start-over' })).status).toBe(303);
  expect(await health()).toBe(200);
  const kept = defined(
    readdirSync(server.dataDir).find((f) => /^oauth\.sqlite\.replaced-\d{8}T\d{6}Z$/.test(f)),
    'the kept file',
  );
  // Kept, not deleted (closing the connection to it may first have copied its WAL's pages into it).
  expect(statSync(path.join(server.dataDir, kept)).size).toBeGreaterThanOrEqual(garbage.length);
  expect((await linkAccount(server.url)).refresh_token).toBeTruthy();
});

it('a database already missing or damaged when the server starts: the pages open (the list of links says why not), and it can be started over', async () => {
  const tokens = await linkAccount(server.url);
  const dataDir = server.dataDir;
  await server.stop();
  for (const [what, spoil] of [
    ['damaged', () => writeFileSync(path.join(dataDir, 'oauth.sqlite'), Buffer.alloc(64 * 1024, 0x5a))],
    ['missing', () => rmSync(path.join(dataDir, 'oauth.sqlite'), { force: true })],
  ] as const) {
    spoil();
    server = await startWithAdmin({ dataDir });
    expect({ what, health: await health() }).toEqual({ what, health: 503 });
    for (const page of ['/', '/activity', '/database/start-over'])
      expect({ what, page, status: (await fromProxy(page)).status }).toEqual({ what, page, status: 200 });
    // The list of links needs the database: the page says why it cannot show them, and where to go.
    const accounts = await fromProxy('/accounts');
    expect({ what, status: accounts.status }).toEqual({ what, status: 503 });
    expect(accounts.body).toContain('The database cannot be read right now');
    expect((await fromProxy('/')).body).toContain('unknown (the database cannot be read)');
    const confirm = await fromProxy('/database/start-over');
    expect((await post('/database/start-over', { csrf: csrfOf(confirm.body), confirm: 'start-over' })).status).toBe(303);
    expect(await health()).toBe(200);
    expect((await refresh(server.url, tokens.refresh_token)).status).toBe(400);
    await server.stop();
  }
  server = await startWithAdmin({ dataDir }); // for afterEach
});

it('refused while the database is usable: nothing is moved or lost', async () => {
  const tokens = await linkAccount(server.url);
  const confirm = await fromProxy('/database/start-over');
  expect(confirm.body).toContain('Nothing to start over');
  expect(confirm.body).not.toContain('name="confirm"');
  const csrf = csrfOf((await fromProxy('/accounts')).body); // the page's token: only the state of the database refuses
  const res = await post('/database/start-over', { csrf, confirm: 'start-over' });
  expect(res.status).toBe(409);
  expect(res.body).toContain('the database is usable');
  expect((await refresh(server.url, tokens.refresh_token)).status).toBe(200);
  expect(readdirSync(server.dataDir).filter((f) => f.includes('replaced'))).toEqual([]);
});
