'use strict';
/**
 * Fills a data folder with grants through the server's own code paths: the compiled store, repositories, lock and
 * grant handlers from dist/ (issueCode at consent, exchangeCode at the token endpoint), in this process, while no
 * server runs on the folder. Each grant ends up exactly as an Alexa link does: a consumed code record, a grant
 * record, an access token and a refresh token.
 */
const path = require('node:path');

/** BENCH_DIST compares another build (e.g. the previous commit's dist/) with the same bench. */
const DIST = path.resolve(process.env.BENCH_DIST || path.join(__dirname, '..', 'dist'));
const { validateOptions } = require(path.join(DIST, 'config', 'load-config'));
const { openStore } = require(path.join(DIST, 'store', 'open-store'));
const { createRepositories } = require(path.join(DIST, 'store', 'records'));
const { KeyedLock } = require(path.join(DIST, 'store', 'keyed-lock'));
const { issueCode, exchangeCode } = require(path.join(DIST, 'oauth', 'grants', 'authorization-code'));

async function openGrantStore(dataDir, options, now = Date.now) {
  const { config } = validateOptions(options, 'fix the bench options');
  const store = await openStore(dataDir);
  const deps = {
    repos: createRepositories(store),
    lock: new KeyedLock(),
    lifetimes: { accessToken: config.accessTokenLifetime, authCode: config.authCodeLifetime, refreshIdle: config.refreshTokenIdleLifetime },
    now,
  };
  return { store, deps, client: config.clients[0] };
}

function authRequest(client) {
  return {
    clientId: client.clientId,
    redirectUri: client.redirectUris[0],
    redirectUriGiven: true,
    scopes: client.scopes,
    flowHash: 'bench',
    csrf: 'bench',
    createdAt: Date.now(),
  };
}

/** Runs `count` jobs with `concurrency` workers; bounded in count (and by the caller's deadline). */
async function pool(count, concurrency, job, deadline = Infinity) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      if (Date.now() > deadline) throw new Error(`fill did not finish before its deadline (${next} of ${count} done)`);
      await job(next++);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Creates `count` grants; returns their tokens (access, refresh) as Alexa received them. */
async function fillGrants(g, count, { concurrency = 32, deadlineMs = 300_000 } = {}) {
  const access = new Array(count);
  const refresh = new Array(count);
  const request = authRequest(g.client);
  await pool(
    count,
    concurrency,
    async (i) => {
      const code = await issueCode(g.deps, request, 'owner');
      const issued = await exchangeCode(g.deps, g.client, { code, redirect_uri: request.redirectUri });
      access[i] = issued.body.access_token;
      refresh[i] = issued.body.refresh_token;
    },
    Date.now() + deadlineMs,
  );
  return { access, refresh };
}

/** Issues `count` authorization codes (consent approved), ready for the token endpoint. */
async function issueCodes(g, count, { concurrency = 32, deadlineMs = 120_000 } = {}) {
  const codes = new Array(count);
  const request = authRequest(g.client);
  await pool(count, concurrency, async (i) => (codes[i] = await issueCode(g.deps, request, 'owner')), Date.now() + deadlineMs);
  return codes;
}

module.exports = { openGrantStore, fillGrants, issueCodes, authRequest };
