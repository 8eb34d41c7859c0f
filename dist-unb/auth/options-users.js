"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.createOptionsUserCheck = createOptionsUserCheck;
exports.createUserAuthenticator = createUserAuthenticator;
const tokens_1 = require("../crypto/tokens");
const username_1 = require("../config/username");
function createOptionsUserCheck(users) {
    return {
        check(username, password) {
            const user = users.find((u) => (0, tokens_1.safeEqual)(u.username, username));
            const matched = (0, tokens_1.safeEqual)(user?.password ?? '\u0000no-such-user', password);
            return Promise.resolve(user && matched ? 'match' : 'mismatch');
        },
    };
}
function audienceOf(sources) {
    const allowed = sources.haAllowedUsers ?? [];
    const ha = !sources.homeAssistant
        ? ''
        : allowed.length === 0
            ? 'any Home Assistant user of this home'
            : `the Home Assistant user${allowed.length === 1 ? '' : 's'} ${allowed.join(', ')}`;
    const extra = sources.options ? 'the users listed in the add-on configuration' : '';
    const who = [ha, extra].filter(Boolean).join(' and ');
    return who ? `Whoever logs in here can link this skill to Music Assistant: ${who}.` : '';
}
/**
 * Tries the configured users first, then Home Assistant's accounts. A Supervisor outage is reported as
 * 'unavailable' rather than as a wrong password, so the owner is told what is really wrong. A Home Assistant
 * login is recorded under the name Home Assistant knows the user by (stripped, lower-case), whatever spelling
 * was typed.
 */
function createUserAuthenticator(sources) {
    const allowed = new Set(sources.haAllowedUsers ?? []);
    return {
        hasSources: Boolean(sources.options || sources.homeAssistant),
        audience: audienceOf(sources),
        async login(username, password) {
            if (sources.options && (await sources.options.check(username, password)) === 'match') {
                return { ok: true, username, source: 'options' };
            }
            if (sources.homeAssistant) {
                const verdict = await sources.homeAssistant.check(username, password);
                if (verdict === 'match') {
                    const name = (0, username_1.haUsername)(username);
                    if (allowed.size > 0 && !allowed.has(name)) {
                        return {
                            ok: false,
                            reason: 'not_allowed',
                            username: name,
                            detail: `Home Assistant user "${name}" logged in with the right password but is not in ha_allowed_users (${[...allowed].join(', ')})`,
                        };
                    }
                    return { ok: true, username: name, source: 'home-assistant' };
                }
                if (verdict !== 'mismatch')
                    return { ok: false, reason: 'unavailable', detail: verdict.unavailable };
            }
            if (!sources.options && !sources.homeAssistant) {
                return {
                    ok: false,
                    reason: 'unavailable',
                    detail: 'no one can log in: add a user under Configuration → users, or run inside Home Assistant with auth_api enabled to use Home Assistant accounts',
                };
            }
            return { ok: false, reason: 'bad_credentials' };
        },
    };
}
//# sourceMappingURL=options-users.js.map