/**
 * kill -9 under load. Clients refresh (and use their access tokens, and link new accounts) against the spawned
 * server while it is killed at random moments; after each kill the database is inspected with the server dead and
 * the server restarted on the same DATA_DIR. Then:
 * - every token whose issuing response reached its client works;
 * - no grant is half written (each live refresh token of a grant has its record; a consumed code has its grant);
 * - SQLite's integrity check passes;
 * - a client whose response was lost retries with its old refresh token and succeeds: no retry unlinks anyone.
 */
import path from 'node:path';
import { TokenBody, exchangeCode, introspectOnce, issueCode, linkAccount, refreshOnce } from '../helpers/alexa-client';
import { ServerProcess, killServer, spawnServer, tempDataDir, testOptions } from '../helpers/test-server';
import { integrityCheckCli, records, sleep, stopGracefully } from './helpers';
import { seededRandom } from '../helpers/seeded-random';

jest.setTimeout(240_000);

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 6);
const REFRESHERS = 6;

interface Client {
  name: string;
  refresh: string;
  /** Access tokens whose issuing response arrived. */
  received: string[];
  /** The refresh token of a request whose response was lost (the server died): retried after the restart. */
  lost?: string;
  refreshes: number;
}

interface Failure {
  client: string;
  status: number;
  body?: unknown;
}

let proc: ServerProcess | undefined;
afterAll(async () => stopGracefully(proc));

it(`survives ${ROUNDS} kill -9 under load with nothing lost, nothing half written, nobody unlinked`, async () => {
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const context = `(seed ${seed}; replay with CRASH_SEED=${seed})`;
  const dataDir = tempDataDir();
  const db = path.join(dataDir, 'oauth.sqlite');
  proc = await spawnServer(dataDir, testOptions());

  const clients: Client[] = [];
  for (let i = 0; i < REFRESHERS; i++) {
    const tokens = await linkAccount(proc.url);
    clients.push({ name: `client${i}`, refresh: tokens.refresh_token, received: [tokens.access_token], refreshes: 0 });
  }
  const failures: Failure[] = [];
  let linksCompleted = 0;
  let lostExchanges = 0;
  let lostExchangesRecovered = 0;

  for (let round = 1; round <= ROUNDS; round++) {
    const url = proc.url;
    let dead = false;

    // Refreshers: rotate as fast as the server answers; use half of the access tokens (settling the family).
    const refreshers = clients.map(async (c) => {
      while (!dead) {
        const sent = c.refresh;
        const res = await refreshOnce(url, sent, 5000);
        if (res.status === 0) {
          c.lost = sent;
          return;
        }
        if (res.status !== 200) {
          failures.push({ client: c.name, status: res.status, body: res.body });
          return;
        }
        c.refresh = String(res.body!.refresh_token);
        c.received.push(String(res.body!.access_token));
        c.refreshes++;
        if (random() < 0.5) {
          const used = await introspectOnce(url, String(res.body!.access_token)).catch(() => undefined);
          if (used && used.status === 200 && used.active !== true)
            failures.push({ client: c.name, status: used.status, body: 'fresh access token inactive' });
        }
      }
    });

    // A linker: whole links (browser + code exchange); an exchange whose answer was lost is retried after restart.
    let pendingExchange: { code: string; verifier?: string } | undefined;
    const linker = (async () => {
      while (!dead) {
        let issued: { code: string; verifier?: string };
        try {
          issued = await issueCode(url);
        } catch {
          return; // killed during the browser steps: nothing was issued to anyone
        }
        let res: Response;
        try {
          res = await exchangeCode(url, issued.code, issued.verifier);
        } catch {
          pendingExchange = issued;
          return;
        }
        if (res.status !== 200) {
          failures.push({ client: 'linker', status: res.status, body: await res.text() });
          return;
        }
        const tokens = (await res.json()) as TokenBody;
        linksCompleted++;
        if (clients.length < REFRESHERS + 6)
          clients.push({ name: `linked${clients.length}`, refresh: tokens.refresh_token, received: [tokens.access_token], refreshes: 0 });
      }
    })();

    await sleep(150 + Math.floor(random() * 750));
    await killServer(proc);
    dead = true;
    await Promise.all([...refreshers, linker]);

    // With the server dead: the file is intact and no grant is half written.
    expect({ round, integrity: integrityCheckCli(db), context }).toEqual({ round, integrity: 'ok', context });
    // A refresh token has its row under its grant's (grant:<id>/<hash>); access tokens and 1.0.0's are at token:<hash>.
    const grants = new Map([...records<{ refresh: { live: string[] } }>(db, 'grant')].filter(([id]) => !id.includes('/')));
    const tokens = new Map([
      ...records<{ kind: string; grantId: string }>(db, 'token'),
      ...[...records<{ kind: string; grantId: string }>(db, 'grant')].filter(([id]) => id.includes('/')),
    ]);
    const codes = records<{ consumedAt?: number; grantId: string }>(db, 'code');
    for (const [id, grant] of grants) {
      for (const hash of grant.refresh.live) {
        const t = tokens.get(hash);
        expect({ grant: id, live: hash, record: t && { kind: t.kind, grantId: t.grantId } }).toEqual({
          grant: id,
          live: hash,
          record: { kind: 'refresh', grantId: id },
        });
      }
    }
    for (const [hash, code] of codes) {
      if (code.consumedAt !== undefined) expect({ code: hash, grant: grants.has(code.grantId) }).toEqual({ code: hash, grant: true });
    }

    proc = await spawnServer(dataDir);

    // Lost answers are retried with the old credential: a refresh retry always succeeds.
    for (const c of clients) {
      if (!c.lost) continue;
      const res = await refreshOnce(proc.url, c.lost, 5000);
      expect({ client: c.name, round, status: res.status, body: res.status === 200 ? 'ok' : res.body, context }).toEqual({
        client: c.name,
        round,
        status: 200,
        body: 'ok',
        context,
      });
      c.refresh = String(res.body!.refresh_token);
      c.received.push(String(res.body!.access_token));
      c.lost = undefined;
    }
    // A lost code exchange: RFC 6749 allows one redemption, so the retry succeeds if the first never committed
    // and is refused (invalid_grant, the half-delivered grant revoked) if it did; it is never a 5xx.
    if (pendingExchange) {
      lostExchanges++;
      const res = await exchangeCode(proc.url, pendingExchange.code, pendingExchange.verifier);
      expect([200, 400]).toContain(res.status);
      if (res.status === 200) {
        lostExchangesRecovered++;
        const t = (await res.json()) as TokenBody;
        expect((await introspectOnce(proc.url, t.access_token)).active).toBe(true);
      } else {
        expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
      }
    }
  }

  expect({ failures, context }).toEqual({ failures: [], context });

  // Every access token that reached a client works (checked on the last server, after all the kills), and
  // every client's latest refresh token still refreshes.
  let checked = 0;
  for (const c of clients) {
    for (const access of c.received) {
      const r = await introspectOnce(proc.url, access);
      expect({ client: c.name, token: access.slice(0, 8), active: r.active, context }).toEqual({
        client: c.name,
        token: access.slice(0, 8),
        active: true,
        context,
      });
      checked++;
    }
    const res = await refreshOnce(proc.url, c.refresh);
    expect({ client: c.name, status: res.status, context }).toEqual({ client: c.name, status: 200, context });
  }
  const refreshes = clients.reduce((n, c) => n + c.refreshes, 0);
  // Enough happened for the kills to have landed mid-write.
  expect(refreshes).toBeGreaterThan(ROUNDS * 5);
  console.log(
    `crash consistency ${context}: ${ROUNDS} kills, ${refreshes} refreshes, ${linksCompleted} links, ${checked} access tokens verified, lost code exchanges ${lostExchanges} (${lostExchangesRecovered} redeemed on retry)`,
  );
});
