"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.AdminError = void 0;
exports.alexaConsoleValues = alexaConsoleValues;
exports.grantView = grantView;
exports.listGrants = listGrants;
exports.listClients = listClients;
exports.status = status;
exports.resolveGrantId = resolveGrantId;
exports.revokeGrants = revokeGrants;
exports.revokeAll = revokeAll;
exports.activity = activity;
exports.hourlyChart = hourlyChart;
/**
 * What the admin page and the CLI do, free of HTTP: status, the Alexa console values, linked accounts (grants),
 * revocation, the activity timeline. Every write is one database transaction, so the CLI runs this on the data
 * folder directly, whether or not the server is running.
 */
const node_crypto_1 = require("node:crypto");
const config_1 = require("../config/config");
const load_config_1 = require("../config/load-config");
const tokens_1 = require("../crypto/tokens");
const authorization_flow_1 = require("../oauth/authorization-flow");
const grant_deps_1 = require("../oauth/grant-deps");
const metadata_1 = require("../oauth/metadata");
const explain_1 = require("./explain");
const trace_reader_1 = require("./trace-reader");
const settled_1 = require("../settled");
const PLACEHOLDER_ORIGIN = 'https://<your public address>';
const iso = (ms) => (ms === undefined ? undefined : new Date(ms).toISOString());
function alexaConsoleValues(config) {
    const base = config.publicUrl ?? PLACEHOLDER_ORIGIN;
    return {
        publicUrlSet: config.publicUrl !== undefined,
        authorizationUri: `${base}${metadata_1.ALEXA_PATHS.authorize}`,
        accessTokenUri: `${base}${metadata_1.ALEXA_PATHS.token}`,
        authenticationScheme: 'HTTP Basic (Recommended)',
        defaultAccessTokenExpiration: config.accessTokenLifetime,
        clients: config.clients.map((c) => ({
            clientId: c.clientId,
            clientType: c.clientType,
            scopes: c.scopes,
            redirectUris: c.redirectUris,
        })),
    };
}
function refreshIdleMs(ctx) {
    return (ctx.config?.refreshTokenIdleLifetime ?? config_1.DEFAULTS.refresh_token_idle_lifetime) * 1000;
}
function grantView(ctx, id, g) {
    return {
        id,
        clientId: g.clientId,
        username: g.username,
        scopes: g.scopes,
        linkedAt: iso(g.createdAt),
        lastRefreshAt: iso(g.lastRefreshAt),
        expiresAt: iso((g.lastRefreshAt ?? g.createdAt) + refreshIdleMs(ctx)),
        refreshCount: g.refreshCount,
        status: g.revokedAt === undefined ? 'active' : 'revoked',
        revokedAt: iso(g.revokedAt),
        revokedReason: g.revokedReason,
    };
}
/** Every grant, newest link first; revoked ones only with `all`. */
function listGrants(ctx, opts = {}) {
    return (0, settled_1.settled)(() => {
        const rows = ctx.grants.storage.read((tx) => tx.grants.list());
        return rows
            .map((g) => grantView(ctx, g.id, g))
            .filter((g) => opts.all || g.status === 'active')
            .sort((a, b) => b.linkedAt.localeCompare(a.linkedAt));
    });
}
function listClients(ctx) {
    return (ctx.config?.clients ?? []).map((c) => ({
        clientId: c.clientId,
        clientType: c.clientType,
        secret: c.clientSecret ? (0, tokens_1.fingerprint)(c.clientSecret) : undefined,
        redirectUris: c.redirectUris,
        scopes: c.scopes,
    }));
}
async function status(ctx) {
    const health = ctx.store.check();
    const all = await listGrants(ctx, { all: true });
    const rt = ctx.runtime ?? ctx.serverRecord;
    return {
        version: ctx.version,
        running: rt !== undefined,
        pid: rt?.pid,
        startedAt: iso(rt?.startedAt),
        uptimeSeconds: rt ? Math.round((Date.now() - rt.startedAt) / 1000) : undefined,
        health,
        dataDir: ctx.dataDir,
        store: { file: ctx.store.file, bytes: ctx.store.sizeBytes() },
        trace: await (0, trace_reader_1.traceInfo)(ctx.dataDir),
        publicUrl: ctx.config?.publicUrl,
        listeners: rt?.listeners ?? {},
        grants: { active: all.filter((g) => g.status === 'active').length, revoked: all.filter((g) => g.status === 'revoked').length },
        alexa: ctx.config ? alexaConsoleValues(ctx.config) : undefined,
        configProblems: ctx.configProblems?.map(load_config_1.problemLine),
    };
}
class AdminError extends Error {
    status;
    constructor(message, status = 400) {
        super(message);
        this.status = status;
    }
}
exports.AdminError = AdminError;
/** A grant by its id or a unique prefix of at least 6 characters (ids are long to type). */
function resolveGrantId(ctx, idOrPrefix) {
    return (0, settled_1.settled)(() => {
        if (!/^[\w-]{1,64}$/.test(idOrPrefix))
            throw new AdminError(`"${idOrPrefix.slice(0, 64)}" is not a grant id`);
        if (ctx.grants.storage.read((tx) => tx.grants.find(idOrPrefix)))
            return idOrPrefix;
        if (idOrPrefix.length < 6)
            throw new AdminError(`no grant ${idOrPrefix}; give the full id, or at least 6 characters of it`, 404);
        const matches = ctx.grants.storage.read((tx) => tx.grants.list()).filter((g) => g.id.startsWith(idOrPrefix));
        if (matches.length === 1)
            return matches[0].id;
        if (matches.length === 0)
            throw new AdminError(`no grant ${idOrPrefix}: see \`oauth-admin grants\` for the ids`, 404);
        throw new AdminError(`${matches.length} grants start with ${idOrPrefix}; give more characters`);
    });
}
function describeActor(actor) {
    const how = actor.via === 'admin-page' ? 'the admin page' : actor.via === 'cli' ? 'oauth-admin' : 'oauth-admin (server stopped)';
    return actor.user ? `${actor.user} via ${how}` : how;
}
/** Revokes grants by id, each in one transaction: every token of them stops working at once. */
function revokeGrants(ctx, ids, actor) {
    return (0, settled_1.settled)(() => {
        const result = { revoked: [], alreadyRevoked: [] };
        const reason = `revoked by ${describeActor(actor)}`;
        for (const id of ids) {
            const outcome = ctx.grants.storage.transaction((tx) => {
                const before = tx.grants.find(id);
                if (!before)
                    return undefined; // expired since it was listed; callers resolve ids with resolveGrantId first
                if (before.revokedAt !== undefined)
                    return { already: true, grant: before };
                return { already: false, grant: (0, grant_deps_1.revokeGrantIn)(ctx.grants, tx, id, reason) };
            });
            if (!outcome)
                continue;
            if (outcome.already)
                result.alreadyRevoked.push(grantView(ctx, id, outcome.grant));
            else
                result.revoked.push(grantView(ctx, id, outcome.grant));
        }
        recordRevocations(ctx, result.revoked, actor);
        return result;
    });
}
function recordRevocations(ctx, revoked, actor) {
    const requestId = (0, node_crypto_1.randomUUID)();
    for (const view of revoked) {
        ctx.trace?.record({
            requestId,
            step: 'admin',
            outcome: 'ok',
            clientId: view.clientId,
            username: view.username,
            grantId: view.id,
            ip: actor.ip,
            detail: { action: 'revoke', by: describeActor(actor) },
        });
    }
    if (revoked.length) {
        ctx.log?.info(`admin: revoked ${revoked.length} link(s)`, {
            by: describeActor(actor),
            grants: revoked.map((g) => `${g.id} (${g.username}, ${g.clientId})`).join(', '),
        });
    }
}
/**
 * The old guide's emergency procedure ("clear all tokens and codes"), done properly and as one transaction: login
 * sessions are dropped, the key sealing pending link requests is replaced (no approval in progress can finish),
 * unredeemed codes are deleted, and every grant is revoked. A refresh or a code exchange runs wholly before or
 * wholly after it.
 */
function revokeAll(ctx, actor) {
    return (0, settled_1.settled)(() => {
        const reason = `revoked by ${describeActor(actor)} (revoke all)`;
        const done = ctx.grants.storage.transaction((tx) => {
            (0, authorization_flow_1.rotateSealingKeyIn)(tx);
            const sessions = tx.sessions.list();
            for (const hash of sessions)
                tx.sessions.remove(hash);
            let codes = 0;
            for (const { hash, record } of tx.codes.list()) {
                if (record.consumedAt !== undefined)
                    continue; // kept: a replay of it must still be recognised
                tx.codes.remove(hash);
                codes++;
            }
            const revoked = [];
            for (const grant of tx.grants.list()) {
                if (grant.revokedAt === undefined)
                    revoked.push((0, grant_deps_1.revokeGrantIn)(ctx.grants, tx, grant.id, reason));
            }
            return { sessions: sessions.length, codes, revoked };
        });
        const revoked = done.revoked.map((g) => grantView(ctx, g.id, g));
        recordRevocations(ctx, revoked, actor);
        ctx.trace?.record({
            requestId: (0, node_crypto_1.randomUUID)(),
            step: 'admin',
            outcome: 'ok',
            ip: actor.ip,
            detail: { action: 'revoke-all', by: describeActor(actor), grants: revoked.length, codes: done.codes, sessions: done.sessions },
        });
        ctx.log?.warn(`admin: revoked ALL links (${revoked.length}), ${done.codes} unredeemed code(s), ${done.sessions} login session(s)`, {
            by: describeActor(actor),
        });
        return { revoked, codes: done.codes, sessions: done.sessions };
    });
}
/** The recent flow trace and security events, newest first, each failure with its explanation and fix. */
async function activity(ctx, q = {}) {
    await ctx.trace?.flush();
    const entries = await (0, trace_reader_1.readActivity)(ctx.dataDir, { failuresOnly: q.failuresOnly, limit: q.limit ?? 200, since: q.sinceMs });
    return entries.map((e) => {
        const explanation = (0, explain_1.explain)(e, { config: ctx.config });
        return explanation ? { ...e, explanation } : e;
    });
}
/** Tokens issued and failures per hour over the last `hours` hours. */
async function hourlyChart(ctx, hours) {
    await ctx.trace?.flush();
    return (0, trace_reader_1.hourlyActivity)(ctx.dataDir, Date.now(), hours);
}
//# sourceMappingURL=admin-service.js.map