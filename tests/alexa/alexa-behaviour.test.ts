/**
 * The server as Alexa meets it, over real HTTP on 127.0.0.1: both ways Alexa authenticates at the token endpoint
 * (HTTP Basic and client_secret in the body) with the redirect URI of each of Amazon's three regions; refreshes
 * fired concurrently with one token, used and kept in any order; answers lost on the way; the server restarted
 * and killed between refreshes; a double tap on Approve over a slow network; and what another client can and
 * cannot do with Alexa's codes and tokens.
 *
 * Seeded randomness: the seed is printed; ALEXA_SEED=<n> repeats a run.
 */
import { expect } from '@jest/globals';
import net from 'node:net';
import {
  AuthStyle,
  Browser,
  PUBLIC_APP,
  TokenBody,
  alexaAuthorize,
  decide,
  exchangeCode,
  isActive,
  issueCode,
  link,
  linkAccount,
  linkPublic,
  openConsentPage,
  pkcePair,
  refresh,
  refreshOk,
  refreshPublic,
} from '../helpers/alexa-client';
import { RunningServer } from '../../src/main';
import {
  ServerProcess,
  killServer,
  readFlowTrace,
  spawnServer,
  startInProcess,
  tempDataDir,
  testOptions,
  waitForTrace,
} from '../helpers/test-server';
import { sleep } from '../helpers/wait';
import { seededRandom } from '../helpers/seeded-random';

const REGIONS = {
  'North America (pitangui.amazon.com)': 'https://pitangui.amazon.com/api/skill/link/M2TESTVENDOR',
  'Europe (layla.amazon.com)': 'https://layla.amazon.com/api/skill/link/M2TESTVENDOR',
  'Far East (alexa.amazon.co.jp)': 'https://alexa.amazon.co.jp/api/skill/link/M2TESTVENDOR',
};
const EUROPE = REGIONS['Europe (layla.amazon.com)'];

const SEED = Number(process.env.ALEXA_SEED ?? Date.now() % 1_000_000);
const random = seededRandom(SEED);
const shuffled = <T>(items: T[]): T[] => {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

beforeAll(() => {
  console.log(`alexa-behaviour seed ${SEED} (ALEXA_SEED=${SEED} to repeat)`);
});

async function expectInvalidGrant(res: Response): Promise<void> {
  expect({ status: res.status, body: await res.json() }).toEqual({
    status: 400,
    body: { error: 'invalid_grant', error_description: expect.any(String) },
  });
}

/** The whole link as Alexa does it for one region and one credential style: authorize, login, approve, exchange. */
const linkFor = (url: string, redirectUri: string, auth: AuthStyle) => link(url, { auth, params: { redirect_uri: redirectUri } });

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server?.stop());

describe('(a) both credential styles × the three regions: link, then a refresh chain', () => {
  const cases = (['basic', 'body'] as const).flatMap((auth) =>
    Object.entries(REGIONS).map(([region, uri]) => [auth, region, uri] as const),
  );
  it.each(cases)('%s credentials, %s', async (auth, _region, redirectUri) => {
    const { redirect, tokens } = await linkFor(server.url, redirectUri, auth);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(redirectUri);
    expect(redirect.searchParams.get('state')).toBe('alexa-state-123');
    expect(redirect.searchParams.get('code')).toMatch(/^[\w-]{20,}$/);
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'music.read music.control' });

    const chain = [tokens];
    for (let i = 0; i < 3; i++) chain.push(await refreshOk(server.url, chain[i]!.refresh_token, auth));
    expect(new Set(chain.map((c) => c.refresh_token)).size).toBe(4);
    expect(new Set(chain.map((c) => c.access_token)).size).toBe(4);
    for (const c of chain) expect(await isActive(server.url, c.access_token)).toBe(true);
    // The linked token, 3 generations back, still refreshes (the grace window), and so does the newest.
    expect(await refreshOk(server.url, chain[0]!.refresh_token, auth)).toMatchObject({ token_type: 'Bearer' });
    expect(await refreshOk(server.url, chain[3]!.refresh_token, auth)).toMatchObject({ token_type: 'Bearer' });
  });
});

describe('(b) concurrent refreshes with one token', () => {
  it('6 at once: all 200; each access token used in a random order; a random answer kept carries the link through 5 more refreshes', async () => {
    const linked = await linkAccount(server.url);
    const responses = await Promise.all(Array.from({ length: 6 }, () => refresh(server.url, linked.refresh_token)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const answers = (await Promise.all(responses.map((r) => r.json()))) as TokenBody[];
    expect(new Set(answers.map((a) => a.refresh_token)).size).toBe(6);

    const order = shuffled([0, 1, 2, 3, 4, 5]);
    for (const i of order)
      expect({ answer: i, active: await isActive(server.url, answers[i]!.access_token) }).toEqual({ answer: i, active: true });
    const kept = Math.floor(random() * 6);
    let current = await refreshOk(server.url, answers[kept]!.refresh_token);
    for (let i = 0; i < 5; i++) current = await refreshOk(server.url, current.refresh_token);
    expect(await isActive(server.url, current.access_token)).toBe(true);
    // Nothing along the way revoked anything: every answer's access token is still good.
    for (const a of answers) expect(await isActive(server.url, a.access_token)).toBe(true);
  });
});

describe('(c) a lost response', () => {
  it("refresh, the answer lost; the retry with the old token is 200, and the lost answer's refresh token also still works", async () => {
    const linked = await linkAccount(server.url, 'body');
    const lost = await refreshOk(server.url, linked.refresh_token, 'body');
    const retry = await refreshOk(server.url, linked.refresh_token, 'body');
    expect(retry.refresh_token).not.toBe(lost.refresh_token);
    expect(await isActive(server.url, lost.access_token)).toBe(true);
    expect(await refreshOk(server.url, lost.refresh_token, 'body')).toMatchObject({ token_type: 'Bearer' });
    const next = await refreshOk(server.url, retry.refresh_token, 'body');
    expect(await refreshOk(server.url, next.refresh_token, 'body')).toMatchObject({ token_type: 'Bearer' });
  });
});

describe('(d) restarts between refreshes', () => {
  let proc: ServerProcess | undefined;
  afterEach(async () => {
    await killServer(proc);
    proc = undefined;
  });

  it('SIGTERM, then kill -9 (also with refreshes in flight): every token whose answer arrived still refreshes', async () => {
    const dataDir = tempDataDir();
    proc = await spawnServer(dataDir, testOptions());
    const linked = await linkAccount(proc.url);
    const arrived: string[] = [linked.refresh_token];
    const r1 = await refreshOk(proc.url, linked.refresh_token);
    arrived.push(r1.refresh_token);

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    proc = await spawnServer(dataDir);
    const r2 = await refreshOk(proc.url, r1.refresh_token);
    const r2b = await refreshOk(proc.url, linked.refresh_token, 'body');
    const r3 = await refreshOk(proc.url, r2.refresh_token);
    arrived.push(r2.refresh_token, r2b.refresh_token, r3.refresh_token);

    // kill -9 right after an answer arrived.
    proc.child.kill('SIGKILL');
    await proc.exited;
    proc = await spawnServer(dataDir);
    const r4 = await refreshOk(proc.url, r3.refresh_token);
    arrived.push(r4.refresh_token);

    // kill -9 while three refreshes with r4 are in flight: as soon as the first complete answer is in.
    const running = proc;
    let killed = false;
    const inFlight = Array.from({ length: 3 }, async () => {
      const res = await refresh(running.url, r4.refresh_token);
      const body = (await res.json()) as TokenBody;
      if (res.status !== 200) throw new Error(`in-flight refresh answered ${res.status}`);
      if (!killed) {
        killed = true;
        running.child.kill('SIGKILL');
      }
      return body;
    });
    const settled = await Promise.allSettled(inFlight);
    await running.exited;
    const burst = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.refresh_token] : []));
    expect(burst.length).toBeGreaterThanOrEqual(1);
    arrived.push(...burst);

    proc = await spawnServer(dataDir);
    // Oldest first, so each is checked before later checks push it further back.
    const results: Array<[number, number]> = [];
    for (const [i, token] of arrived.entries()) results.push([i, (await refresh(proc.url, token)).status]);
    expect(results).toEqual(arrived.map((_, i) => [i, 200]));

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});

/**
 * A TCP proxy that delays every client→server chunk by `delayMs` (order kept: same delay, timers fire in order);
 * server→client is piped straight. Bounded: close() cancels pending chunks and destroys every socket.
 */
async function delayingProxy(targetPort: number, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, delayMs);
    timers.add(timer);
  };
  const proxy = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (chunk) => later(() => upstream.write(chunk)));
    client.on('end', () => later(() => upstream.end()));
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', () => later(drop));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

describe('(e) a double tap on Approve over a slow network', () => {
  it('two approvals 150 ms apart through a 200 ms delay: the second answer is the same redirect with the same code, which exchanges once', async () => {
    const proxy = await delayingProxy(server.port, 200);
    try {
      const browser = new Browser(proxy.url);
      const { verifier, challenge } = pkcePair();
      const consent = await openConsentPage(browser, alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'S256' }));
      const codesBefore = server.deps.grants.storage.read((tx) => tx.codes.list()).length;
      const first = decide(browser, consent);
      await sleep(150);
      const second = decide(browser, consent);
      const [a, b] = await Promise.all([first, second]);

      // What the browser shows is the answer to the second tap.
      expect(b.status).toBe(303);
      const shown = new URL(b.headers.get('location')!);
      expect(`${shown.origin}${shown.pathname}`).toBe(EUROPE);
      expect(shown.searchParams.get('state')).toBe('alexa-state-123');
      expect(a.status).toBe(303);
      const code = new URL(a.headers.get('location')!).searchParams.get('code');
      expect(code).toBeTruthy();
      expect(shown.searchParams.get('code')).toBe(code);

      // Both taps reached the server and were decided: once anew, once as a repeat.
      const repeat = await waitForTrace(server.dataDir, (e) => e.step === 'consent' && e.outcome === 'ok' && e.detail?.repeated === true);
      const decided = readFlowTrace(server.dataDir).filter(
        (e) => e.step === 'consent' && e.outcome === 'ok' && e.detail?.code === repeat.detail?.code,
      );
      expect(decided.map((e) => e.detail?.repeated).sort()).toEqual([false, true]);
      // Never a second code: the two taps stored one.
      expect(server.deps.grants.storage.read((tx) => tx.codes.list()).length).toBe(codesBefore + 1);

      const exchanged = await exchangeCode(server.url, code!, verifier);
      expect(exchanged.status).toBe(200);
      const tokens = (await exchanged.json()) as TokenBody;
      expect(await refreshOk(server.url, tokens.refresh_token)).toMatchObject({ token_type: 'Bearer' });
    } finally {
      await proxy.close();
    }
  });
});

describe('(e) repeated approvals against the clock', () => {
  let t = Date.now();
  let clocked: RunningServer & { dataDir: string };
  beforeAll(async () => {
    clocked = await startInProcess({ now: () => t });
  });
  afterAll(async () => clocked?.stop());

  /** Opens the consent page, waits `beforeFirst` ms (clock), approves, waits `gap` ms, approves again. */
  async function approveTwice(beforeFirst: number, gap: number): Promise<{ first: Response; second: Response; secondPage: string }> {
    const browser = new Browser(clocked.url);
    const consent = await openConsentPage(browser, alexaAuthorize());
    t += beforeFirst;
    const first = await decide(browser, consent);
    t += gap;
    const second = await decide(browser, consent);
    return { first, second, secondPage: await second.text() };
  }
  const codeOf = (res: Response) => new URL(res.headers.get('location')!).searchParams.get('code');

  it('again 119 s after the decision: the same 303 with the same code', async () => {
    const { first, second } = await approveTwice(0, 119_000);
    expect([first.status, second.status]).toEqual([303, 303]);
    expect(codeOf(second)).toBe(codeOf(first));
  });

  it('again 121 s after the decision: 400 "already completed", no redirect, no code', async () => {
    const { first, second, secondPage } = await approveTwice(0, 121_000);
    expect(first.status).toBe(303);
    expect(second.status).toBe(400);
    expect(second.headers.get('location')).toBeNull();
    expect(secondPage).toMatch(/already completed/);
    const code = codeOf(first)!;
    expect(secondPage).not.toContain(code);
  });

  // A double tap straddling the 15-minute mark (first tap accepted at 14:59, second at 15:01): the decision was
  // made in time, so the second tap is answered with it, not with "expired".
  it('approved 1 s before the 15-minute limit and tapped again 2 s later: the same 303 with the same code', async () => {
    const { first, second } = await approveTwice(15 * 60_000 - 1000, 2000);
    expect(first.status).toBe(303);
    expect(second.status).toBe(303);
    expect(codeOf(second)).toBe(codeOf(first));
  });
});

describe("(f) another client and Alexa's codes", () => {
  const presentAsPublic = (code: string, verifier: string) =>
    exchangeCode(server.url, code, verifier, { redirect_uri: PUBLIC_APP.redirectUri }, 'none', PUBLIC_APP.clientId);

  it("the public client replays Alexa's spent code: invalid_grant, and Alexa's tokens keep working", async () => {
    const { code, verifier } = await issueCode(server.url);
    const res = await exchangeCode(server.url, code, verifier);
    expect(res.status).toBe(200);
    const alexa = (await res.json()) as TokenBody;

    await expectInvalidGrant(await presentAsPublic(code, verifier!));
    const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'code_client_mismatch' && e.clientId === 'public-app');
    expect(entry.outcome).toBe('error');

    expect(await isActive(server.url, alexa.access_token)).toBe(true);
    const next = await refreshOk(server.url, alexa.refresh_token);
    expect(await isActive(server.url, next.access_token)).toBe(true);
  });

  it("the public client presents Alexa's code before Alexa does: invalid_grant, and Alexa then exchanges it", async () => {
    const { code, verifier } = await issueCode(server.url);
    await expectInvalidGrant(await presentAsPublic(code, verifier!));
    const res = await exchangeCode(server.url, code, verifier);
    expect(res.status).toBe(200);
  });
});

describe("(g) a public client's true reuse still revokes", () => {
  it('a token two rotations old: invalid_grant, every token of the link dead, and the trace says security', async () => {
    const r0 = await linkPublic(server.url);
    const r1 = (await (await refreshPublic(server.url, r0.refresh_token)).json()) as TokenBody;
    const r2res = await refreshPublic(server.url, r1.refresh_token);
    expect(r2res.status).toBe(200);
    const r2 = (await r2res.json()) as TokenBody;
    expect(await isActive(server.url, r2.access_token)).toBe(true);

    await expectInvalidGrant(await refreshPublic(server.url, r0.refresh_token));
    await expectInvalidGrant(await refreshPublic(server.url, r2.refresh_token));
    for (const t of [r0, r1, r2]) expect(await isActive(server.url, t.access_token)).toBe(false);
    const entry = await waitForTrace(
      server.dataDir,
      (e) => e.step === 'token' && e.kind === 'refresh_reuse' && e.clientId === 'public-app',
    );
    expect(entry).toMatchObject({ outcome: 'security', error: 'invalid_grant' });
  });
});
