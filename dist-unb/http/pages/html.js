"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.SafeHtml = void 0;
exports.escapeHtml = escapeHtml;
exports.html = html;
exports.page = page;
/** Minimal HTML templating: every interpolated value goes through escapeHtml, so echoed input can never run. */
const text_1 = require("../../log/text");
function escapeHtml(value) {
    return (0, text_1.text)(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
/** Marks a string as already-safe HTML (built from escaped parts). */
class SafeHtml {
    html;
    constructor(html) {
        this.html = html;
    }
    toString() {
        return this.html;
    }
}
exports.SafeHtml = SafeHtml;
/** Tagged template: interpolations are escaped unless they are SafeHtml (or arrays of it). */
function html(strings, ...values) {
    let out = strings[0] ?? '';
    values.forEach((value, i) => {
        const parts = Array.isArray(value) ? value : [value];
        out += parts.map((p) => (p instanceof SafeHtml ? p.html : escapeHtml(p))).join('');
        out += strings[i + 1] ?? '';
    });
    return new SafeHtml(out);
}
const STYLE = `
  :root { color-scheme: light dark; --accent: #0277bd; --bg: #f5f7fa; --card: #fff; --fg: #1c2733; --muted: #5b6b7b; --danger: #c62828; }
  @media (prefers-color-scheme: dark) { :root { --bg: #111418; --card: #1c2127; --fg: #e6e9ec; --muted: #9aa6b2; } }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
  main { width: min(440px, 100% - 32px); background: var(--card); border-radius: 14px; padding: 28px;
         box-shadow: 0 6px 24px rgba(0,0,0,.12); }
  h1 { font-size: 1.35rem; margin: 0 0 .25rem; }
  .sub { color: var(--muted); margin: 0 0 1.25rem; }
  label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
  input[type=text], input[type=password] { width: 100%; padding: .65rem .75rem; border: 1px solid #9aa6b2; border-radius: 8px;
         font-size: 1rem; background: transparent; color: inherit; }
  button { width: 100%; margin-top: 1.1rem; padding: .75rem; border: 0; border-radius: 8px; font-size: 1rem; font-weight: 600;
         background: var(--accent); color: #fff; cursor: pointer; }
  button.secondary { background: transparent; color: var(--muted); border: 1px solid #9aa6b2; margin-top: .6rem; }
  ul.scopes { padding-left: 1.2rem; } code { overflow-wrap: anywhere; }
  .error { border-left: 4px solid var(--danger); padding: .5rem .75rem; background: rgba(198,40,40,.08); border-radius: 6px; }
  .fix { color: var(--muted); font-size: .92rem; }
`;
function page(title, nonce, body) {
    return `<!doctype html>${html `<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <title>${title} &middot; Music Assistant</title>
      <style nonce="${nonce}">
        ${new SafeHtml(STYLE)}
      </style>
    </head>
    <body>
      <main>${body}</main>
    </body>
  </html>`.toString()}`;
}
//# sourceMappingURL=html.js.map