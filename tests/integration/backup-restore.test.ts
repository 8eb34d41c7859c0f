/**
 * A backup restored after Alexa went on refreshing: Alexa then holds a refresh token the restored database never
 * saw. Refusing it would unlink the user, so a confidential client's token the server signed for that grant, in its
 * newest generation or a later one, is taken back in (grants/refresh-token.ts). Each server here is a real listening
 * one on a copy of a data folder, as a restore leaves it; the copy is taken while the server is stopped.
 */
import { expect } from '@jest/globals';
import { cpSync } from 'node:fs';
import { RunningServer } from '../../src/main';
import { TokenBody, introspection, linkAccount, linkPublic, refresh, refreshOk, refreshPublic, revoke } from '../helpers/alexa-client';
import { startInProcess, tempDataDir } from '../helpers/test-server';

const servers: RunningServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.stop();
});

async function serve(dataDir: string): Promise<RunningServer> {
  const server = await startInProcess({ dataDir });
  servers.push(server);
  return server;
}

async function stop(server: RunningServer): Promise<void> {
  servers.splice(servers.indexOf(server), 1);
  await server.stop();
}

/** The data folder as a backup holds it now (taken while the server is stopped). */
function backupOf(dataDir: string): string {
  const copy = tempDataDir();
  cpSync(dataDir, copy, { recursive: true });
  return copy;
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
    const live = tempDataDir();
    let server = await serve(live);
    const linked = await linkAccount(server.url);
    await stop(server);
    const backup = backupOf(live);

    server = await serve(live);
    let held = linked;
    for (let i = 0; i < generations; i++) held = await refreshOk(server.url, held.refresh_token);
    if (burst > 0) {
      const answers = await Promise.all(Array.from({ length: burst }, () => refreshOk(server.url, held.refresh_token)));
      held = answers[burst - 1]!;
    }
    await stop(server);

    const restored = await serve(backup);
    expect(await introspection(restored.url, held.refresh_token)).toMatchObject({ active: true });
    const next = await refreshOk(restored.url, held.refresh_token);
    // The answer was lost: Alexa presents the same token again.
    const retry = await refreshOk(restored.url, held.refresh_token);
    for (const answer of [next, retry]) expect(await refreshOk(restored.url, answer.refresh_token)).toMatchObject({ token_type: 'Bearer' });
    // The token linked before the backup is still an earlier token inside the window of what the backup held.
    if (generations + 2 <= 10) expect((await refresh(restored.url, linked.refresh_token)).status).toBe(200);
  });

  it('survives a restart after the take-back: the token is on record from then on', async () => {
    const live = tempDataDir();
    let server = await serve(live);
    const linked = await linkAccount(server.url);
    await stop(server);
    const backup = backupOf(live);
    server = await serve(live);
    const held = await refreshOk(server.url, linked.refresh_token);
    await stop(server);

    server = await serve(backup);
    const next = await refreshOk(server.url, held.refresh_token);
    await stop(server);
    server = await serve(backup);
    expect(await refreshOk(server.url, held.refresh_token)).toMatchObject({ token_type: 'Bearer' });
    expect(await refreshOk(server.url, next.refresh_token)).toMatchObject({ token_type: 'Bearer' });
  });

  it('a signed token altered in any character, or a token of another link, is refused and changes nothing', async () => {
    const live = tempDataDir();
    let server = await serve(live);
    const [one, other] = [await linkAccount(server.url), await linkAccount(server.url)];
    await stop(server);
    const backup = backupOf(live);
    server = await serve(live);
    const held = await refreshOk(server.url, one.refresh_token);
    await stop(server);

    server = await serve(backup);
    const [grantId, secret] = held.refresh_token.split('.') as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (const i of [0, 3, 10, 21, 30, 42]) await expectInvalidGrant(await refresh(server.url, `${grantId}.${flip(secret, i)}`));
    // The same secret under the other link's id: the MAC covers the id.
    const otherId = other.refresh_token.split('.')[0]!;
    await expectInvalidGrant(await refresh(server.url, `${otherId}.${secret}`));
    expect(await introspection(server.url, `${otherId}.${secret}`)).toMatchObject({ active: false });
    // Nothing was taken back: the genuine token still is.
    expect(await refreshOk(server.url, held.refresh_token)).toMatchObject({ token_type: 'Bearer' });
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
    const live = tempDataDir();
    let server = await serve(live);
    const linked: TokenBody = await linkPublic(server.url);
    await stop(server);
    const backup = backupOf(live);
    server = await serve(live);
    const held = (await (await refreshPublic(server.url, linked.refresh_token)).json()) as TokenBody;
    await stop(server);
    server = await serve(backup);
    await expectInvalidGrant(await refreshPublic(server.url, held.refresh_token));
  });
});
