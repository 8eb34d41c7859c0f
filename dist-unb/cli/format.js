"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.shown = void 0;
exports.terminalSafe = terminalSafe;
exports.style = style;
exports.table = table;
exports.pairs = pairs;
exports.localTime = localTime;
exports.wrap = wrap;
/** Plain-text output for the CLI: aligned tables, local times, optional colour (only on a terminal, never with NO_COLOR). */
const untrusted_1 = require("../log/untrusted");
/** A value that came from a client or the store (a username, a cause), as one escaped line for the terminal. */
const shown = (value, max = 1024) => (0, untrusted_1.untrusted)(value, max);
exports.shown = shown;
/**
 * The CLI's last guard before the terminal, behind shown() on each value: every control character except the
 * newline is escaped (C1 and bidi controls as \uXXXX, which --json output stays valid with), and ESC only survives as the start of a colour code (ESC [ digits m, what style() writes),
 * so a value that slipped through can at worst change a colour: never clear the screen, set the window title,
 * write the clipboard (OSC 52) or forge a hyperlink. One linear pass.
 */
function terminalSafe(text) {
    let out = '';
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 0x1b) {
            let j = i + 1;
            if (text[j] === '[') {
                j++;
                while (j < text.length && j - i < 12 && /[0-9;]/.test(text.charAt(j)))
                    j++;
                if (text[j] === 'm') {
                    out += text.slice(i, j + 1);
                    i = j;
                    continue;
                }
            }
            out += '\\x1b';
        }
        else if (c === 0x0a) {
            out += '\n';
        }
        else if (c < 0x20 || c === 0x7f) {
            out += (0, untrusted_1.untrusted)(text[i]); // \t, \r, \xHH: never raw in --json output (JSON.stringify escapes C0)
        }
        else if ((c > 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
            out += `\\u${c.toString(16).padStart(4, '0')}`; // a valid escape inside --json strings too
        }
        else {
            out += text[i];
        }
    }
    return out;
}
function style(enabled) {
    const wrap = (code) => (s) => (enabled ? `\x1b[${code}m${s}\x1b[0m` : s);
    return { ok: wrap('32'), warn: wrap('33'), err: wrap('31'), dim: wrap('2'), bold: wrap('1') };
}
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const width = (s) => [...s.replace(ANSI, '')].length;
const pad = (s, n) => s + ' '.repeat(Math.max(0, n - width(s)));
/** A table with a header row; cells may hold several lines. */
function table(headers, rows, st) {
    const cells = rows.map((r) => r.map((c) => c.split('\n')));
    const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => Math.max(...(r[i] ?? ['']).map(width)))));
    const line = (parts) => parts
        .map((p, i) => (i === parts.length - 1 ? p : pad(p, widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
    const out = [st.bold(line(headers.map((h, i) => pad(h, widths[i] ?? 0))))];
    for (const r of cells) {
        const height = Math.max(...r.map((c) => c.length));
        for (let k = 0; k < height; k++)
            out.push(line(r.map((c) => c[k] ?? '')));
    }
    return out.join('\n');
}
/** Label: value lines with aligned values. */
function pairs(items, indent = '') {
    const w = Math.max(...items.map(([k]) => width(k)));
    return items.map(([k, v]) => `${indent}${pad(k, w)}  ${v}`).join('\n');
}
const two = (n) => String(n).padStart(2, '0');
/** 2025-11-23 14:05 in the machine's time zone. */
function localTime(iso, seconds = false) {
    if (!iso)
        return '-';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime()))
        return iso;
    const base = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
    return seconds ? `${base}:${two(d.getSeconds())}` : base;
}
/** Wraps text at `cols` columns, each line after the first indented. */
function wrap(text, cols, indent) {
    const words = text.split(/\s+/);
    const lines = [];
    let current = '';
    for (const w of words) {
        if (current && width(current) + 1 + width(w) > cols) {
            lines.push(current);
            current = w;
        }
        else {
            current = current ? `${current} ${w}` : w;
        }
    }
    if (current)
        lines.push(current);
    return lines.map((l, i) => (i === 0 ? l : `${indent}${l}`)).join('\n');
}
//# sourceMappingURL=format.js.map