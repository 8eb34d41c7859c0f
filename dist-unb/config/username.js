"use strict";
/**
 * Usernames the way Home Assistant compares them. Its auth provider matches `username.strip().casefold()`
 * (homeassistant/auth/providers/homeassistant.py, Data.validate_login), so " owner" and "OWNER\t" log in as
 * "owner". Two uses here need two directions:
 *
 * - usernameLockKey (the per-username login lock): must merge at least what Home Assistant merges, or each
 *   spelling is a fresh 30 guesses. Coarser is safe, so it adds NFKC. JavaScript has no casefold: lower, upper,
 *   lower again (ẞ -> ß -> SS -> ss, ſ -> S -> s, ﬁ -> FI -> fi); checked against Python's str.casefold for every
 *   code point (tests/security/usernames.test.ts keeps a table of the hard ones).
 * - haUsername (ha_allowed_users, and the name a Home Assistant login is recorded under): must never merge what
 *   Home Assistant keeps apart, or an unlisted user could pass as a listed one. Finer is safe: Python's strip,
 *   then lower-casing (Python's str.lower is finer than str.casefold for every code point, and JavaScript's
 *   toLowerCase follows the same Unicode data). A listed name then matches every ordinary spelling of it.
 *
 * Both take a capped input: a username is at most 128 characters on the login form.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.USERNAME_MAX = void 0;
exports.pythonStrip = pythonStrip;
exports.haUsername = haUsername;
exports.usernameLockKey = usernameLockKey;
/** Python's str.isspace() set, which str.strip() removes (JavaScript's trim() differs: it strips U+FEFF, not U+001C-U+001F or U+0085). */
const PY_WHITESPACE = new Set([
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
    0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);
exports.USERNAME_MAX = 128;
function pythonStrip(s) {
    let start = 0;
    let end = s.length;
    while (start < end && PY_WHITESPACE.has(s.charCodeAt(start)))
        start++;
    while (end > start && PY_WHITESPACE.has(s.charCodeAt(end - 1)))
        end--;
    return s.slice(start, end);
}
/** Home Assistant's strip().casefold(), never coarser: for ha_allowed_users and recorded Home Assistant logins. */
function haUsername(username) {
    return pythonStrip(username.slice(0, exports.USERNAME_MAX * 2)).toLowerCase();
}
/** At least as coarse as Home Assistant's comparison: the key of the per-username login lock. */
function usernameLockKey(username) {
    const stripped = pythonStrip(username.slice(0, exports.USERNAME_MAX * 2).normalize('NFKC'));
    return pythonStrip(stripped.toLowerCase().toUpperCase().toLowerCase().normalize('NFKC')).slice(0, exports.USERNAME_MAX);
}
//# sourceMappingURL=username.js.map