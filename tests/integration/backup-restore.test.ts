/**
 * A backup restored after Alexa went on refreshing: Alexa then holds a refresh token the restored database never
 * saw. Refusing it would unlink the user, so a confidential client's token the server signed for that grant, in its
 * newest generation or a later one, is taken back in (grants/refresh-token.ts). Each server here is a real listening
 * one on a copy of a data folder, as a restore leaves it; the copy is taken while the server is stopped.
 */
import { expect } from '@jest/globals';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { refreshTokenFor } from '../../src/crypto/tokens';
import { RESTORED_MARK } from '../../src/store/sqlite/sqlite-store';
import { RunningServer } from '../../src/main';
import { TokenBody, introspection, linkAccount, linkPublic, refresh, refreshOk, refreshPublic, revoke } from '../helpers/alexa-client';
import { startInProcess, tempDataDir } from '../helpers/test-server';

const servers: RunningServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.stop();
});

async function serve(dataDir: string, now?: () => number): Promise<RunningServer> {
  const server = await startInProcess({ dataDir, now });
  servers.push(server);
  return server;
}

async function stop(server: RunningServer): Promise<void> {
  servers.splice(servers.indexOf(server), 1);
  await server.stop();
}

/**
 * The data folder as a backup holds it now (taken while the server is stopped), restored: with the mark
 * rootfs oauth-backup leaves when it puts a backup's database in place (tests/addon/supervision.test.ts runs it).
 */
function backupOf(dataDir: string, restored = true): string {
  const copy = tempDataDir();
  cpSync(dataDir, copy, { recursive: true });
  if (restored) writeFileSync(path.join(copy, RESTORED_MARK), `${Math.floor(Date.now() / 1000)}\n`);
  return copy;
}

/**
 * `count` links made on a fresh data folder, a backup of it taken then, and `afterwards` run on the live folder
 * (Alexa refreshing after the backup); the server is stopped in between, as for the copy. Returns the backup
 * folder to restore, the links and what `afterwards` returned.
 */
async function backedUp<T>(
  count: number,
  afterwards: (url: string, links: TokenBody[]) => Promise<T>,
  link: (url: string) => Promise<TokenBody> = linkAccount,
) {
  const live = tempDataDir();
  let server = await serve(live);
  const links: TokenBody[] = [];
  for (let i = 0; i < count; i++) links.push(await link(server.url));
  await stop(server);
  const backup = backupOf(live);
  server = await serve(live);
  const after = await afterwards(server.url, links);
  await stop(server);
  return { backup, links, after };
}

async function expectInvalidGrant(res: Response): Promise<void> {
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
}

describe('restored from a backup taken before Alexa refreshed again', () => {
  it.each([
    ['one refresh', 1, 0],
    ['three generations', 3, 0],
    ['a burst of 4 after two generations, an answer of it kept', 2, 4],
    ['twelve generations (more than the grace window)', 12, 0],
  ])('%s: the token Alexa holds refreshes, and so do its retries and the answers', async (_what, generations, burst) => {
    const {
      backup,
      links: [linked],
      after: held,
    } = await backedUp(1, async (url, [first]) => {
      let held = first!;
      for (let i = 0; i < generations; i++) held = await refreshOk(url, held.refresh_token);
      if (burst === 0) return held;
      const answers = await Promise.all(Array.from({ length: burst }, () => refreshOk(url, held.refresh_token)));
      return answers[burst - 1]!;
    });

    const restored = await serve(backup);
    expect(await introspection(restored.url, held.refresh_token)).toMatchObject({ active: true });
    const next = await refreshOk(restored.url, held.refresh_token);
    // The answer was lost: Alexa presents the same token again.
    const retry = await refreshOk(restored.url, held.refresh_token);
    for (const answer of [next, retry]) expect(await refreshOk(restored.url, answer.refresh_token)).toMatchObject({ token_type: 'Bearer' });
    // The token linked before the backup is an earlier token, generations + 2 back: inside the 10-generation window or not.
    expect((await refresh(restored.url, linked!.refresh_token)).status).toBe(generations + 2 <= 10 ? 200 : 400);
  });

  it('survives a restart after the take-back: the token is on record from then on', async () => {
    const { backup, after: held } = await backedUp(1, (url, [linked]) => refreshOk(url, linked!.refresh_token));
    let server = await serve(backup);
    const next = await refreshOk(server.url, held.refresh_token);
    await stop(server);
    server = await serve(backup);
    expect(await refreshOk(server.url, held.refresh_token)).toMatchObject({ token_type: 'Bearer' });
    expect(await refreshOk(server.url, next.refresh_token)).toMatchObject({ token_type: 'Bearer' });
  });

  it('a signed token altered in any character, or a token of another link, is refused and changes nothing', async () => {
    const {
      backup,
      links: [, other],
      after: held,
    } = await backedUp(2, (url, [one]) => refreshOk(url, one!.refresh_token));
    const server = await serve(backup);
    const [grantId, secret] = held.refresh_token.split('.') as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (const i of [0, 3, 10, 21, 30, 42]) await expectInvalidGrant(await refresh(server.url, `${grantId}.${flip(secret, i)}`));
    // The same secret under the other link's id: the MAC covers the id.
    const otherId = other!.refresh_token.split('.')[0]!;
    await expectInvalidGrant(await refresh(server.url, `${otherId}.${secret}`));
    expect(await introspection(server.url, `${otherId}.${secret}`)).toMatchObject({ active: false });
    // Nothing was taken back: the genuine token still is.
    expect(await refreshOk(server.url, held.refresh_token)).toMatchObject({ token_type: 'Bearer' });
  });

  it('outside a restore nothing is taken back: a token made from a copy of the database (its key) is refused; so is one 91 days after the restore', async () => {
    const live = tempDataDir();
    const server = await serve(live);
    const linked = await linkAccount(server.url);
    const grantId = linked.refresh_token.split('.')[0]!;
    // What a copy of the database (a backup, with options.json) gives: the grant's key and generation.
    const grant = server.deps.grants.storage.read((tx) => tx.grants.find(grantId))!;
    const forge = (now: number) =>
      refreshTokenFor(grantId, { key: Buffer.from(grant.signingKey!, 'base64url'), generation: grant.refresh.generation, now });
    await expectInvalidGrant(await refresh(server.url, forge(Date.now())));
    await stop(server);

    // Restored: the mark is recorded and removed; tokens are taken back for 90 days, not after.
    const restoredDir = backupOf(live);
    const later = Date.now() + 91 * 86_400_000;
    let restored = await serve(restoredDir);
    expect(existsSync(path.join(restoredDir, RESTORED_MARK))).toBe(false);
    expect(await refreshOk(restored.url, forge(Date.now()))).toMatchObject({ token_type: 'Bearer' });
    await stop(restored);
    restored = await serve(restoredDir, () => later);
    await expectInvalidGrant(await refresh(restored.url, forge(later)));
  });

  it('a link revoked in the restored database stays revoked', async () => {
    const live = tempDataDir();
    let server = await serve(live);
    const linked = await linkAccount(server.url);
    expect((await revoke(server.url, linked.refresh_token)).status).toBe(200);
    await stop(server);
    server = await serve(backupOf(live));
    await expectInvalidGrant(await refresh(server.url, linked.refresh_token));
  });

  it("a public client's token issued after the backup is not taken back (no secret binds it): that link must be made again", async () => {
    const { backup, after: held } = await backedUp(
      1,
      async (url, [linked]) => (await (await refreshPublic(url, linked!.refresh_token)).json()) as TokenBody,
      linkPublic,
    );
    const server = await serve(backup);
    await expectInvalidGrant(await refreshPublic(server.url, held.refresh_token));
  });
});
