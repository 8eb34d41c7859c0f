"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.UNTRUSTED_MAX = void 0;
exports.untrusted = untrusted;
exports.untrustedTree = untrustedTree;
const text_1 = require("./text");
/**
 * Request data on its way to a log line, the flow trace, the security events, the admin page or the CLI: capped,
 * and with control characters escaped, so that a client can neither start a forged line (\n, \r, U+2028/2029,
 * U+0085), drive a terminal (ESC, C1 controls such as U+009B CSI), reorder what an operator reads (bidi controls)
 * nor grow an entry without bound.
 *
 * One pass over at most `max` output characters, whatever the input's length. Idempotent: an escaped value holds
 * no control character and fits its cap, so applying it again changes nothing; readers therefore apply it once
 * more to entries written by older versions. Backslashes are left alone (only readability is at stake in the
 * ambiguity between "\x1b" typed by a client and an escaped ESC, never a line or a terminal).
 */
/** Cap of one attacker-controlled value (a client_id, a redirect_uri, a username, a header). */
exports.UNTRUSTED_MAX = 256;
/** C0, DEL, C1, line/paragraph separators, bidi embeddings/overrides/isolates, marks and the BOM. */
function isUnsafe(c) {
    return (c < 0x20 ||
        (c >= 0x7f && c <= 0x9f) ||
        c === 0x061c ||
        c === 0x200e ||
        c === 0x200f ||
        (c >= 0x2028 && c <= 0x202e) ||
        (c >= 0x2066 && c <= 0x2069) ||
        c === 0xfeff);
}
/** Fits `max` and holds nothing the loop below would escape (no unsafe character, no surrogate at all). */
function isSafeAsIs(s, max) {
    if (s.length > max)
        return false;
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if ((c & 0xf800) === 0xd800 || isUnsafe(c))
            return false;
    }
    return true;
}
const hex = (c, width) => c.toString(16).padStart(width, '0');
const SHORT = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r' };
const escapeUnit = (c) => SHORT[c] ?? (c < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`);
/**
 * `value` as one safe line of at most `max` characters: control characters and lone surrogates escaped, the
 * rest cut off behind "…[+N]" (N input characters dropped).
 */
function untrusted(value, max = exports.UNTRUSTED_MAX) {
    const s = (0, text_1.text)(value);
    // Almost every value is already safe and short: returned as it is, without building a copy piece by piece.
    if (isSafeAsIs(s, max))
        return s;
    // Room kept for the marker, sized for the largest N this input can produce.
    const reserve = `…[+${s.length}]`.length;
    const budget = Math.max(0, max - reserve);
    let out = '';
    let fitsAt = -1; // output length and input position when the output last fitted the budget
    let inputAt = 0;
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        let piece;
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
            piece = s.slice(i, i + 2); // a well-formed surrogate pair stays one character
            i++;
        }
        else if ((c & 0xf800) === 0xd800 || isUnsafe(c)) {
            piece = escapeUnit(c);
        }
        else {
            piece = s.charAt(i);
        }
        if (out.length + piece.length <= budget) {
            fitsAt = out.length + piece.length;
            inputAt = i + 1;
        }
        out += piece;
        if (out.length > max)
            break; // cannot fit whole any more: stop reading
    }
    if (out.length <= max)
        return out;
    const kept = out.slice(0, Math.max(0, fitsAt));
    return `${kept}…[+${s.length - inputAt}]`;
}
/** Limits of a tree of request data (a flow-trace `detail`): depth, keys per object, items per list. */
const TREE = { depth: 4, keys: 24, items: 24 };
/** Every string in `value` through untrusted(); numbers and booleans kept; objects and lists bounded. */
function untrustedTree(value, max = exports.UNTRUSTED_MAX, depth = 0) {
    if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean')
        return value;
    if (typeof value === 'string')
        return untrusted(value, max);
    if (typeof value !== 'object' || depth >= TREE.depth)
        return untrusted(typeof value === 'object' ? '[nested]' : (0, text_1.text)(value), max);
    if (Array.isArray(value)) {
        const items = value.slice(0, TREE.items).map((v) => untrustedTree(v, max, depth + 1));
        if (value.length > TREE.items)
            items.push(`…[+${value.length - TREE.items} items]`);
        return items;
    }
    const out = {};
    let n = 0;
    for (const [k, v] of Object.entries(value)) {
        if (n++ >= TREE.keys) {
            out['…'] = `[+${Object.keys(value).length - TREE.keys} keys]`;
            break;
        }
        out[untrusted(k, 64)] = untrustedTree(v, max, depth + 1);
    }
    return out;
}
//# sourceMappingURL=untrusted.js.map