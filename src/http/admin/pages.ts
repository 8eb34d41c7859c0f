/**
 * The admin pages, rendered on the server with the escaping `html` template. Every link and form action carries
 * the Ingress prefix, so the pages work under /api/hassio_ingress/<token>/ as well as directly. The only script
 * (copy buttons) is inline with the response's CSP nonce.
 */
import { SafeHtml, html } from '../pages/html';
import { DiagnoseReport, Finding, formatBytes } from '../../ops/diagnose';
import { ActivityEntry, GrantView, StatusReport } from '../../ops/admin-service';
import { STARTS_OVER, StoreHealth } from '../../store/faults';
import { HourBucket } from '../../ops/trace-reader';
import { text } from '../../log/text';
import { COALESCED } from '../../log/trace-policy';

export interface PageContext {
  /** Ingress prefix ('' when reached directly). */
  prefix: string;
  nonce: string;
  csrf: string;
  version: string;
  /** Active links, shown beside the tab; left out on the not-found and error pages, which do not read the store. */
  activeCount?: number;
  now: number;
}

type Tab = 'status' | 'accounts' | 'activity';

const ICON = new SafeHtml(
  '<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true"><path fill="currentColor" d="M12 1 3 5v6c0 5.55 3.84 10.74 9 12 5.16-1.26 9-6.45 9-12V5l-9-4zm0 4a3 3 0 1 1 0 6 3 3 0 0 1 0-6zm0 14.2c-2.5-.9-4.5-2.95-5.3-5.45C8 12.6 10 12 12 12s4 .6 5.3 1.75c-.8 2.5-2.8 4.55-5.3 5.45z"/></svg>',
);

const STYLE = `
:root { color-scheme: light dark; --primary: #03a9f4; --primary-dark: #0288d1; --bg: #f2f4f7; --card: #ffffff; --fg: #1f2933;
  --muted: #5f6b7a; --line: #e3e8ee; --code: #f5f7fa; --ok: #2e7d32; --ok-bg: #e8f5e9; --warn: #b26a00; --warn-bg: #fff4e0;
  --err: #c62828; --err-bg: #fdecea; --sec: #8e24aa; --sec-bg: #f6e9f9; --info: #0277bd; --info-bg: #e6f4fb; --shadow: 0 1px 3px rgba(16,24,40,.08), 0 1px 2px rgba(16,24,40,.04); }
@media (prefers-color-scheme: dark) { :root { --bg: #111418; --card: #1c2128; --fg: #e6e9ed; --muted: #9aa5b1; --line: #2d333b;
  --code: #15191e; --ok: #66bb6a; --ok-bg: #1b2e1d; --warn: #ffb74d; --warn-bg: #33280f; --err: #ef5350; --err-bg: #3a1a1a;
  --sec: #ce93d8; --sec-bg: #2e1a33; --info: #4fc3f7; --info-bg: #0f2733; --shadow: 0 1px 3px rgba(0,0,0,.5); } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 Roboto, system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
a { color: var(--primary-dark); } @media (prefers-color-scheme: dark) { a { color: var(--primary); } }
header.top { background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
.bar { max-width: 1080px; margin: 0 auto; padding: 14px 20px 0; display: flex; align-items: center; gap: 10px; }
.brand { display: flex; align-items: center; gap: 10px; font-size: 1.15rem; font-weight: 500; color: var(--fg); }
.brand svg { color: var(--primary); }
.version { color: var(--muted); font-size: .8rem; font-weight: 400; border: 1px solid var(--line); border-radius: 10px; padding: 0 8px; }
nav.tabs { max-width: 1080px; margin: 0 auto; padding: 0 12px; display: flex; gap: 4px; overflow-x: auto; }
nav.tabs a { padding: 12px 14px 10px; color: var(--muted); text-decoration: none; font-weight: 500; border-bottom: 3px solid transparent; white-space: nowrap; }
nav.tabs a:hover { color: var(--fg); }
nav.tabs a[aria-current="page"] { color: var(--primary-dark); border-bottom-color: var(--primary); }
@media (prefers-color-scheme: dark) { nav.tabs a[aria-current="page"] { color: var(--primary); } }
.pill { display: inline-block; min-width: 20px; padding: 0 6px; margin-left: 4px; border-radius: 10px; background: var(--code); color: var(--muted); font-size: .78rem; text-align: center; }
main { max-width: 1080px; margin: 0 auto; padding: 20px; display: grid; gap: 16px; }
.card { background: var(--card); border-radius: 12px; box-shadow: var(--shadow); border: 1px solid var(--line); padding: 18px 20px; min-width: 0; }
.card h2 { font-size: 1.05rem; font-weight: 500; margin: 0 0 4px; }
.card .sub { color: var(--muted); margin: 0 0 14px; font-size: .92rem; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 16px; }
.hero { display: flex; align-items: center; gap: 14px; }
.dot { width: 14px; height: 14px; border-radius: 50%; flex: none; background: var(--ok); box-shadow: 0 0 0 5px var(--ok-bg); }
.dot.bad { background: var(--err); box-shadow: 0 0 0 5px var(--err-bg); } .dot.warn { background: var(--warn); box-shadow: 0 0 0 5px var(--warn-bg); }
.hero strong { font-size: 1.1rem; font-weight: 500; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px 20px; margin: 16px 0 0; }
dl.facts div { min-width: 0; } dl.facts div.wide { grid-column: span 2; } dl.facts dt { color: var(--muted); font-size: .8rem; } dl.facts dd { margin: 0; font-weight: 500; overflow-wrap: anywhere; }
.values { display: grid; gap: 10px; }
.value { display: grid; grid-template-columns: minmax(150px, 220px) 1fr auto; gap: 10px; align-items: center; }
.value .label { color: var(--muted); font-size: .9rem; }
.value code, code.inline { font: .88rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--code); border: 1px solid var(--line);
  border-radius: 8px; padding: 7px 10px; overflow-wrap: anywhere; }
code.inline { padding: 1px 6px; border-radius: 6px; }
.value .note { color: var(--muted); font-size: .88rem; }
@media (max-width: 640px) { .value { grid-template-columns: 1fr auto; } .value .label { grid-column: 1 / -1; } }
button, .button { font: inherit; font-weight: 500; font-size: .88rem; border-radius: 8px; padding: 7px 14px; cursor: pointer; border: 1px solid var(--line);
  background: var(--card); color: var(--fg); text-decoration: none; display: inline-block; }
button:hover, .button:hover { border-color: var(--primary); }
button.copy.done { color: var(--ok); border-color: var(--ok); }
button.danger, .button.danger { color: var(--err); border-color: var(--err); background: transparent; }
button.danger:hover, .button.danger:hover { background: var(--err-bg); }
button.danger.solid { background: var(--err); color: #fff; border-color: var(--err); }
.callout { border-radius: 10px; padding: 10px 14px; margin: 0 0 14px; border: 1px solid transparent; }
.callout.warn { background: var(--warn-bg); border-color: var(--warn); } .callout.ok { background: var(--ok-bg); border-color: var(--ok); }
.callout.err { background: var(--err-bg); border-color: var(--err); } .callout.info { background: var(--info-bg); border-color: var(--info); }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: .92rem; }
th { text-align: left; color: var(--muted); font-weight: 500; font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; padding: 8px 10px; border-bottom: 1px solid var(--line); }
td { padding: 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
tr:last-child td { border-bottom: 0; }
td.nw { white-space: nowrap; }
@media (max-width: 700px) {
  table.cards thead { display: none; }
  table.cards tr { display: block; border-bottom: 1px solid var(--line); padding: 10px 0; }
  table.cards tr:last-child { border-bottom: 0; }
  table.cards td { display: flex; justify-content: space-between; align-items: baseline; gap: 12px; border: 0; padding: 3px 0; white-space: normal; text-align: right; }
  table.cards td:first-child { text-align: left; display: block; }
  table.cards td[data-label]::before { content: attr(data-label); color: var(--muted); font-size: .8rem; text-align: left; }
  table.cards td.action { justify-content: flex-end; padding-top: 8px; }
}
td .id { color: var(--muted); font-size: .78rem; font-family: ui-monospace, monospace; }
.chip { display: inline-block; background: var(--info-bg); color: var(--info); border-radius: 10px; padding: 0 8px; font-size: .8rem; margin: 1px 2px 1px 0; }
.empty { text-align: center; color: var(--muted); padding: 28px 10px; }
.empty strong { display: block; color: var(--fg); font-weight: 500; margin-bottom: 4px; }
.danger-zone { border-color: var(--err); }
.danger-zone .row { display: flex; gap: 16px; align-items: center; justify-content: space-between; flex-wrap: wrap; }
ul.findings { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
ul.findings li { display: grid; grid-template-columns: 22px 1fr; gap: 8px; padding: 8px 10px; border-radius: 8px; }
ul.findings li.warn { background: var(--warn-bg); } ul.findings li.error { background: var(--err-bg); }
.lvl { font-weight: 700; text-align: center; } .lvl.ok { color: var(--ok); } .lvl.info { color: var(--info); } .lvl.warn { color: var(--warn); } .lvl.error { color: var(--err); }
.area { color: var(--muted); font-size: .78rem; text-transform: uppercase; letter-spacing: .03em; margin-right: 6px; }
.finding-detail, .fix { font-size: .88rem; margin-top: 2px; } .finding-detail { color: var(--muted); }
.fix strong, .problem strong { font-weight: 600; }
.filters { display: flex; gap: 6px; margin-bottom: 12px; }
.filters a { padding: 4px 12px; border-radius: 14px; border: 1px solid var(--line); text-decoration: none; color: var(--muted); font-size: .88rem; }
.filters a[aria-current="page"] { background: var(--primary); border-color: var(--primary); color: #fff; }
ol.timeline { list-style: none; margin: 0; padding: 0; }
ol.timeline > li { display: grid; grid-template-columns: 120px 18px 1fr; gap: 10px; padding: 10px 0; border-bottom: 1px solid var(--line); }
ol.timeline > li:last-child { border-bottom: 0; }
.when { color: var(--muted); font-size: .82rem; text-align: right; } .when .rel { display: block; color: var(--fg); }
.mark { width: 12px; height: 12px; border-radius: 50%; margin-top: 5px; background: var(--ok); }
li.error .mark { background: var(--err); } li.security .mark { background: var(--sec); } li.admin .mark { background: var(--info); }
li.error .body, li.security .body { background: var(--err-bg); border-left: 3px solid var(--err); border-radius: 8px; padding: 8px 12px; }
li.security .body { background: var(--sec-bg); border-left-color: var(--sec); }
.step { display: inline-block; font-size: .72rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); border: 1px solid var(--line); border-radius: 6px; padding: 0 6px; margin-right: 6px; vertical-align: 1px; }
.headline { font-weight: 500; } .who { color: var(--muted); font-size: .85rem; }
.problem { margin: 4px 0 0; } .fix { margin: 4px 0 0; }
details.tech { margin-top: 6px; font-size: .82rem; color: var(--muted); } details.tech summary { cursor: pointer; }
details.tech code { display: block; white-space: pre-wrap; overflow-wrap: anywhere; margin-top: 4px; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; font-family: ui-monospace, monospace; }
@media (max-width: 640px) { ol.timeline > li { grid-template-columns: 1fr; } .mark { display: none; } .when { text-align: left; } }
.chart svg { width: 100%; height: auto; display: block; }
.chart .tokens { fill: var(--primary); } .chart .failures { fill: var(--err); } .chart .axis { stroke: var(--line); } .chart text { fill: var(--muted); font-size: 11px; }
.legend { display: flex; gap: 16px; font-size: .88rem; color: var(--muted); margin-top: 8px; flex-wrap: wrap; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.legend .t::before { background: var(--primary); } .legend .f::before { background: var(--err); }
.actions { display: flex; gap: 10px; flex-wrap: wrap; align-items: center; }
.offscreen { position: fixed; left: -9999px; top: 0; opacity: 0; }
footer { max-width: 1080px; margin: 0 auto; padding: 0 20px 24px; color: var(--muted); font-size: .8rem; }
`;

const COPY_SCRIPT = `
document.addEventListener('click', async function (ev) {
  var btn = ev.target instanceof Element ? ev.target.closest('button[data-copy]') : null;
  if (!btn) return;
  var source = document.getElementById(btn.getAttribute('data-copy'));
  if (!source) return;
  var text = source.textContent.trim();
  var ok = false;
  try { await navigator.clipboard.writeText(text); ok = true; } catch (e) { ok = false; }
  if (!ok) {
    var ta = document.createElement('textarea');
    ta.value = text; ta.readOnly = true; ta.className = 'offscreen';
    document.body.appendChild(ta); ta.select();
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    ta.remove();
  }
  if (!ok) { var r = document.createRange(); r.selectNodeContents(source); var s = window.getSelection(); s.removeAllRanges(); s.addRange(r); }
  btn.textContent = ok ? 'Copied' : 'Press Ctrl+C';
  btn.classList.toggle('done', ok);
  setTimeout(function () { btn.textContent = 'Copy'; btn.classList.remove('done'); }, 1600);
});`;

/**
 * Date formats, made when a page first needs one: building an Intl.DateTimeFormat loads ICU's locale data, about
 * 8 MB of memory and 15 ms at start-up for a page that may never be opened.
 */
function lazyFormat(options: Intl.DateTimeFormatOptions): (ms: number | string) => string {
  let format: Intl.DateTimeFormat | undefined;
  return (when) => (format ??= new Intl.DateTimeFormat('en-GB', options)).format(new Date(when));
}
const dateFmt = lazyFormat({ day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const timeFmt = lazyFormat({ hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayFmt = lazyFormat({ weekday: 'short', day: 'numeric', month: 'short' });
const hourFmt = lazyFormat({ hour: '2-digit', hourCycle: 'h23' });
const localHour = (ms: number) => Number.parseInt(hourFmt(ms), 10);

export function formatDate(iso: string | undefined): string {
  return iso ? dateFmt(iso) : '—';
}

export function relative(iso: string | undefined, now: number): string {
  if (!iso) return '—';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  const future = s < 0;
  const a = Math.abs(s);
  const text =
    a < 45 ? `${a} s` : a < 5400 ? `${Math.round(a / 60)} min` : a < 129600 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86400)} days`;
  return future ? `in ${text}` : a < 5 ? 'just now' : `${text} ago`;
}

export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return m > 0 ? `${m} min` : `${seconds} s`;
}

function layout(ctx: PageContext, tab: Tab, title: string, body: SafeHtml): string {
  const link = (t: Tab, path: string, label: string, extra: SafeHtml | string = '') =>
    html`<a href="${ctx.prefix}${path}" ${new SafeHtml(t === tab ? ' aria-current="page"' : '')}>${label}${extra}</a>`;
  return `<!doctype html>${html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <title>${title} &middot; Alexa account linking</title>
      <style nonce="${ctx.nonce}">
        ${new SafeHtml(STYLE)}
      </style>
    </head>
    <body>
      <header class="top">
        <div class="bar"><span class="brand">${ICON} Alexa account linking</span><span class="version">v${ctx.version}</span></div>
        <nav class="tabs" aria-label="Sections">
          ${link('status', '/', 'Status')}
          ${link('accounts', '/accounts', 'Linked accounts', ctx.activeCount === undefined ? '' : html`<span class="pill">${ctx.activeCount}</span>`)}
          ${link('activity', '/activity', 'Activity')}
        </nav>
      </header>
      <main>${body}</main>
      <footer>
        Music Assistant Alexa OAuth &middot; times shown in the add-on's time zone &middot;
        <a href="${ctx.prefix}/metrics">Prometheus metrics</a>
      </footer>
      <script nonce="${ctx.nonce}">
        ${new SafeHtml(COPY_SCRIPT)};
      </script>
    </body>
  </html>`.toString()}`;
}

let copyId = 0;
function copyValue(label: string, value: string, note?: string): SafeHtml {
  const id = `v${++copyId}`;
  return html`<div class="value">
    <span class="label">${label}</span><code id="${id}">${value}</code
    ><button type="button" class="copy" data-copy="${id}" aria-label="Copy ${label}">Copy</button
    >${note ? html`<span></span><span class="note">${note}</span>` : ''}
  </div>`;
}

function plainValue(label: string, text: SafeHtml | string): SafeHtml {
  return html`<div class="value"><span class="label">${label}</span><span class="note">${text}</span><span></span></div>`;
}

const LEVEL_MARK: Record<Finding['level'], string> = { ok: '✓', info: 'i', warn: '!', error: '✕' };

function findingsList(report: DiagnoseReport): SafeHtml {
  const order = { error: 0, warn: 1, info: 2, ok: 3 } as const;
  const items = [...report.findings]
    .sort((a, b) => order[a.level] - order[b.level])
    .map(
      (f) =>
        html`<li class="${f.level}">
          <span class="lvl ${f.level}" aria-label="${f.level}">${LEVEL_MARK[f.level]}</span>
          <div>
            <div><span class="area">${f.area}</span>${f.title}</div>
            ${f.detail ? html`<div class="finding-detail">${f.detail}</div>` : ''}
            ${f.fix ? html`<div class="fix"><strong>Fix:</strong> ${f.fix}</div>` : ''}
          </div>
        </li>`,
    );
  return html`<ul class="findings">
    ${items}
  </ul>`;
}

/** `notices`: the card of Home Assistant notifications (notices-card.ts), inside the running server. */
export function statusPage(ctx: PageContext, s: StatusReport, report: DiagnoseReport, notices?: SafeHtml): string {
  copyId = 0;
  const problems = report.counts.error;
  const warnings = report.counts.warn;
  const state = !s.health.ok || problems > 0 ? 'bad' : warnings > 0 ? 'warn' : '';
  const headline = !s.health.ok
    ? 'The database is not usable'
    : problems > 0
      ? `Running, but ${problems} problem${problems > 1 ? 's' : ''} need${problems > 1 ? '' : 's'} attention`
      : warnings > 0
        ? `Running, with ${warnings} warning${warnings > 1 ? 's' : ''}`
        : 'Running normally';
  const alexa = s.alexa;
  const consoleCard = alexa
    ? html`<section class="card" aria-labelledby="console-h">
        <h2 id="console-h">Alexa developer console</h2>
        <p class="sub">Paste these into your skill: <strong>Build &rarr; Account Linking</strong>, with &ldquo;Auth Code Grant&rdquo;.</p>
        ${alexa.publicUrlSet ? '' : html`<p class="callout warn"><strong>public_url is not set.</strong> The addresses below show a placeholder: set <code class="inline">public_url</code> in the add-on Configuration tab to the https address Alexa reaches this add-on at. Until then the issuer, the published addresses and whether login cookies are marked Secure are taken from each request's headers (behind a proxy, only from one listed in trusted_proxies).</p>`}
        <div class="values">
          ${copyValue('Web Authorization URI', alexa.authorizationUri)} ${copyValue('Access Token URI', alexa.accessTokenUri)}
          ${alexa.clients.map((c) => copyValue(alexa.clients.length > 1 ? `Your Client ID (${c.clientType})` : 'Your Client ID', c.clientId))}
          ${plainValue('Your Secret', html`The <code class="inline">client_secret</code> you set under Configuration &rarr; clients (never shown here).`)}
          ${copyValue('Authentication Scheme', alexa.authenticationScheme, '“Credentials in request body” works too.')}
          ${alexa.clients.flatMap((c) => c.scopes.map((scope) => copyValue(alexa.clients.length > 1 ? `Scope (${c.clientId})` : 'Scope', scope)))}
          ${copyValue('Default Access Token Expiration Time (seconds)', String(alexa.defaultAccessTokenExpiration))}
        </div>
        <p class="sub">
          The console's three &ldquo;Alexa Redirect URLs&rdquo; must each be listed under Configuration &rarr; clients &rarr; redirect_uris.
        </p>
      </section>`
    : html`<section class="card">
        <h2>Alexa developer console</h2>
        <p class="callout err">The configuration cannot be read, so the values cannot be shown. See the checks below.</p>
      </section>`;
  return layout(
    ctx,
    'status',
    'Status',
    html` <section class="card" aria-labelledby="health-h">
        <div class="hero">
          <span class="dot ${state}" aria-hidden="true"></span>
          <div>
            <strong id="health-h">${headline}</strong>
            <div class="sub">${s.health.ok ? 'The database can be read and written.' : (s.health.reason ?? '')}</div>
            ${
              !s.health.ok && STARTS_OVER.has(s.health.fault)
                ? html`<p class="actions">
                    <a class="button danger" href="${ctx.prefix}/database/start-over"
                      >No backup? Start over with an empty database&hellip;</a
                    >
                  </p>`
                : ''
            }
          </div>
        </div>
        <dl class="facts">
          <div>
            <dt>Version</dt>
            <dd>${s.version}</dd>
          </div>
          <div>
            <dt>Uptime</dt>
            <dd>${s.uptimeSeconds !== undefined ? formatDuration(s.uptimeSeconds) : '—'}</dd>
          </div>
          <div>
            <dt>Linked accounts</dt>
            <dd>${s.grants ? s.grants.active : 'unknown (the database cannot be read)'}</dd>
          </div>
          <div>
            <dt>Database</dt>
            <dd>${formatBytes(s.store.bytes)}</dd>
          </div>
          <div>
            <dt>Flow trace</dt>
            <dd>${formatBytes(s.trace.bytes)}</dd>
          </div>
          <div class="wide">
            <dt>Public URL</dt>
            <dd>${s.publicUrl ?? 'not set: set public_url in the Configuration tab'}</dd>
          </div>
        </dl>
      </section>
      ${consoleCard}
      <section class="card" aria-labelledby="checks-h">
        <h2 id="checks-h">Checks</h2>
        <p class="sub">
          Configuration, public URL, database, listeners, clock and the failures of the last 7 days. The same report:
          <code class="inline">oauth-admin diagnose</code>.
        </p>
        ${findingsList(report)}
      </section>
      ${notices ?? ''}`,
  );
}

export type Notice = { kind: 'ok' | 'err' | 'info'; text: string } | undefined;

export function accountsPage(ctx: PageContext, grants: GrantView[], revoked: GrantView[], notice: Notice): string {
  const rows = grants.map(
    (g) =>
      html`<tr data-grant="${g.id}">
        <td>
          <strong>${g.username}</strong>
          <div class="id" title="grant id">${g.id}</div>
        </td>
        <td class="nw" data-label="Client">${g.clientId}</td>
        <td data-label="Scopes"><span>${g.scopes.map((s) => html`<span class="chip">${s}</span>`)}</span></td>
        <td class="nw" data-label="Linked" title="${g.linkedAt}">${formatDate(g.linkedAt)}</td>
        <td class="nw" data-label="Last refresh" title="${g.lastRefreshAt ?? ''}">
          ${g.lastRefreshAt ? relative(g.lastRefreshAt, ctx.now) : 'never'}
        </td>
        <td class="nw" data-label="Expires if unused" title="${g.expiresAt}">${formatDate(g.expiresAt)}</td>
        <td class="action">
          <form method="post" action="${ctx.prefix}/accounts/${encodeURIComponent(g.id)}/revoke">
            <input type="hidden" name="csrf" value="${ctx.csrf}" />
            <button type="submit" class="danger" aria-label="Revoke the link of ${g.username} with ${g.clientId}">Revoke</button>
          </form>
        </td>
      </tr>`,
  );
  const revokedRows = revoked.map(
    (g) =>
      html`<tr>
        <td>
          ${g.username}
          <div class="id">${g.id}</div>
        </td>
        <td>${g.clientId}</td>
        <td title="${g.revokedAt ?? ''}">${formatDate(g.revokedAt)}</td>
        <td>${g.revokedReason ?? ''}</td>
      </tr>`,
  );
  return layout(
    ctx,
    'accounts',
    'Linked accounts',
    html` ${notice ? html`<p class="callout ${notice.kind}" role="status">${notice.text}</p>` : ''}
      <section class="card" aria-labelledby="accounts-h">
        <h2 id="accounts-h">Linked accounts</h2>
        <p class="sub">
          Each row is one link between an Alexa account and this Music Assistant. Revoking a link stops its tokens at once; Alexa then asks
          the user to link again.
        </p>
        ${
          grants.length
            ? html`<div class="table-wrap">
                <table class="cards">
                  <thead>
                    <tr>
                      <th>User</th>
                      <th>Client</th>
                      <th>Scopes</th>
                      <th>Linked</th>
                      <th>Last refresh</th>
                      <th>Expires if unused</th>
                      <th><span class="offscreen">Action</span></th>
                    </tr>
                  </thead>
                  <tbody>
                    ${rows}
                  </tbody>
                </table>
              </div>`
            : html`<div class="empty" id="no-accounts">
                <strong>No linked accounts</strong>When someone links the Alexa skill, the link shows up here.
              </div>`
        }
      </section>
      <section class="card danger-zone" aria-labelledby="danger-h">
        <div class="row">
          <div>
            <h2 id="danger-h">Revoke all links</h2>
            <p class="sub">For a suspected breach: ends every link, unredeemed code and login session. Everyone has to link again.</p>
          </div>
          <a class="button danger" href="${ctx.prefix}/accounts/revoke-all">Revoke all&hellip;</a>
        </div>
      </section>
      ${
        revoked.length
          ? html`<section class="card">
              <details>
                <summary><strong>Revoked in the last 30 days (${revoked.length})</strong></summary>
                <div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th>User</th>
                        <th>Client</th>
                        <th>Revoked</th>
                        <th>Why</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${revokedRows}
                    </tbody>
                  </table>
                </div>
              </details>
            </section>`
          : ''
      }`,
  );
}

/** `count` is undefined while the database cannot be read (revoking then fails and says so). */
export function confirmRevokeAllPage(ctx: PageContext, count: number | undefined): string {
  return layout(
    ctx,
    'accounts',
    'Revoke all links?',
    html` <section class="card danger-zone" aria-labelledby="confirm-h">
      <h2 id="confirm-h">${count ? `Revoke all ${count} linked account${count === 1 ? '' : 's'}?` : 'Revoke all links?'}</h2>
      <p class="callout err">
        ${
          count !== 0
            ? 'Every Alexa user linked to this Music Assistant loses access at once and has to link the skill again. Unredeemed authorization codes and login sessions are cleared too. This cannot be undone.'
            : 'No account is linked right now. Confirming still clears unredeemed authorization codes and login sessions, so that no link in progress can complete.'
        }
      </p>
      <form method="post" action="${ctx.prefix}/accounts/revoke-all" class="actions">
        <input type="hidden" name="csrf" value="${ctx.csrf}" />
        <input type="hidden" name="confirm" value="revoke-all" />
        <button type="submit" class="danger solid">Yes, revoke all links</button>
        <a class="button" href="${ctx.prefix}/accounts">Cancel</a>
      </form>
    </section>`,
  );
}

/** The confirmation of SqliteStore.startOver, offered only for a missing or damaged database. */
export function confirmStartOverPage(ctx: PageContext, health: StoreHealth): string {
  if (!STARTS_OVER.has(health.fault) || health.ok) {
    return messagePage(
      ctx,
      'status',
      'Nothing to start over',
      'The database is not missing or damaged: a new one would not help. The status page says what is wrong, if anything.',
    );
  }
  return layout(
    ctx,
    'status',
    'Start over with an empty database?',
    html` <section class="card danger-zone" aria-labelledby="start-over-h">
      <h2 id="start-over-h">Start over with an empty database?</h2>
      <p class="sub">${health.reason ?? ''}</p>
      <p class="callout err">
        Restore the add-on from a Home Assistant backup instead if you have one (Settings &rarr; System &rarr; Backups): it brings the links
        back. Starting over opens a new, empty database: every Alexa user has to link the skill again. What is left of the old database is
        kept in the add-on's data folder under the name oauth.sqlite.replaced-&lt;date&gt;.
      </p>
      <form method="post" action="${ctx.prefix}/database/start-over" class="actions">
        <input type="hidden" name="csrf" value="${ctx.csrf}" />
        <input type="hidden" name="confirm" value="start-over" />
        <button type="submit" class="danger solid">Yes, start over with an empty database</button>
        <a class="button" href="${ctx.prefix}/">Cancel</a>
      </form>
    </section>`,
  );
}

const STEP_WORDS: Record<string, string> = {
  authorize: 'authorize',
  login: 'login',
  consent: 'consent',
  token: 'token',
  revoke: 'revoke',
  introspect: 'introspect',
  admin: 'admin',
};

/** What the trace's summary of successes counted (log/trace-policy.ts TraceCoalescer), by step. */
const COUNTED_WORDS: Partial<Record<string, string>> = {
  introspect: 'token checks',
  token: 'refreshes',
  authorize: 'linking starts',
  revoke: 'revocations that revoked nothing',
};

function okHeadline(e: ActivityEntry): string {
  const d = e.detail ?? {};
  // The trace's summary of routine successes it counted (log/trace-policy.ts TraceCoalescer).
  if (e.requestId === COALESCED)
    return `${text(d.coalesced ?? 0)} more ${COUNTED_WORDS[e.step] ?? 'requests'}, counted, not listed one by one`;
  switch (e.step) {
    case 'authorize':
      return 'Linking started';
    case 'login':
      return `Logged in${d.source === 'home-assistant' ? ' with Home Assistant' : ''}`;
    case 'consent':
      return 'Link approved';
    case 'token':
      return e.grantType === 'refresh_token' ? 'Tokens refreshed' : 'Account linked: first tokens issued';
    case 'revoke':
      return d.revoked === 'grant' ? 'Client ended its link (token revocation)' : 'Client revoked a token';
    case 'introspect':
      return `Token checked: ${d.active ? 'active' : 'not active'}`;
    case 'admin':
      return d.action === 'revoke-all'
        ? `All links revoked (${text(d.grants ?? 0)}) by ${text(d.by ?? 'an admin')}`
        : d.action === 'start-over'
          ? `Database started over, empty, by ${text(d.by ?? 'an admin')}`
          : `Link of ${e.username ?? '?'} revoked by ${text(d.by ?? 'an admin')}`;
    default: {
      const step: string = e.step; // a step this release does not know (a trace written by another one)
      return `${step} ok`;
    }
  }
}

function technical(e: ActivityEntry): string {
  const lines = [
    e.kind ? `kind: ${e.kind}` : '',
    e.error ? `error: ${e.error}` : '',
    e.cause ? `cause: ${e.cause}` : '',
    e.redirectUri ? `redirect_uri: ${e.redirectUri}` : '',
    e.grantType ? `grant_type: ${e.grantType}` : '',
    e.grantId ? `grant: ${e.grantId}` : '',
    e.ip ? `ip: ${e.ip}` : '',
    `request id: ${e.requestId}`,
  ];
  return lines.filter(Boolean).join('\n');
}

function timelineItem(e: ActivityEntry, now: number): SafeHtml {
  const x = e.explanation;
  const cls = e.outcome === 'ok' ? (e.step === 'admin' ? 'ok admin' : 'ok') : e.outcome;
  const who = [e.clientId, e.username].filter(Boolean).join(' · ');
  return html`<li class="${cls}" data-kind="${e.kind ?? ''}">
    <div class="when"><span class="rel">${relative(e.ts, now)}</span><time datetime="${e.ts}">${timeFmt(e.ts)}</time></div>
    <span class="mark" aria-hidden="true"></span>
    <div class="body">
      <div>
        <span class="step">${STEP_WORDS[e.step] ?? e.step}</span><span class="headline">${x ? x.title : okHeadline(e)}</span>
        ${who ? html` <span class="who">${who}</span>` : ''}${x?.severity === 'security' ? html` <span class="chip">security</span>` : ''}
      </div>
      ${
        x
          ? html`<p class="problem">${x.problem}</p>
              <p class="fix"><strong>Fix:</strong> ${x.fix}</p>`
          : ''
      }
      ${
        x
          ? html`<details class="tech">
              <summary>Technical details</summary>
              <code>${technical(e)}</code>
            </details>`
          : ''
      }
    </div>
  </li>`;
}

export function chartSvg(buckets: HourBucket[]): SafeHtml {
  const W = 840;
  const H = 150;
  const top = 14;
  const bottom = 22;
  const plotH = H - top - bottom;
  const slot = W / buckets.length;
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.tokens, b.failures)));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const bars: SafeHtml[] = [];
  const labels: SafeHtml[] = [];
  buckets.forEach((b, i) => {
    const x = i * slot;
    const w = Math.max(1, slot / 2 - 0.5);
    const when = `${dayFmt(b.start)}, ${hourFmt(b.start)}:00`;
    bars.push(
      html`<g
        ><title>${when}: ${b.tokens} token response${b.tokens === 1 ? '' : 's'}, ${b.failures} failure${b.failures === 1 ? '' : 's'}</title>
        <rect x="${x.toFixed(1)}" y="${top}" width="${slot.toFixed(1)}" height="${plotH}" fill="transparent" />
        ${b.tokens ? html`<rect class="tokens" x="${x.toFixed(1)}" y="${y(b.tokens).toFixed(1)}" width="${w.toFixed(1)}" height="${(top + plotH - y(b.tokens)).toFixed(1)}" rx="1" />` : ''}
        ${b.failures ? html`<rect class="failures" x="${(x + slot / 2).toFixed(1)}" y="${y(b.failures).toFixed(1)}" width="${w.toFixed(1)}" height="${(top + plotH - y(b.failures)).toFixed(1)}" rx="1" />` : ''}</g
      >`,
    );
    if (localHour(b.start) === 0 && i > 0) {
      labels.push(
        html`<line class="axis" x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${top + plotH}" /><text
            x="${(x + 3).toFixed(1)}"
            y="${H - 6}"
            >${dayFmt(b.start)}</text
          >`,
      );
    }
  });
  const tokens = buckets.reduce((s, b) => s + b.tokens, 0);
  const failures = buckets.reduce((s, b) => s + b.failures, 0);
  return html`<svg
    viewBox="0 0 ${W} ${H}"
    role="img"
    aria-label="Per hour over the last ${Math.round(buckets.length / 24)} days: ${tokens} token responses and ${failures} failures"
  >
    <line class="axis" x1="0" y1="${top + plotH}" x2="${W}" y2="${top + plotH}" />
    <line class="axis" x1="0" y1="${top}" x2="${W}" y2="${top}" stroke-dasharray="3 4" />
    <text x="${W - 4}" y="${top - 3}" text-anchor="end">${max} per hour</text>
    ${labels}${bars}
  </svg>`;
}

export function activityPage(ctx: PageContext, entries: ActivityEntry[], buckets: HourBucket[], failuresOnly: boolean): string {
  const tokens = buckets.reduce((s, b) => s + b.tokens, 0);
  const failures = buckets.reduce((s, b) => s + b.failures, 0);
  return layout(
    ctx,
    'activity',
    'Activity',
    html` <section class="card chart" aria-labelledby="chart-h">
        <h2 id="chart-h">Last ${Math.round(buckets.length / 24)} days</h2>
        <p class="sub">Token responses issued and failures, per hour.</p>
        ${chartSvg(buckets)}
        <div class="legend"><span class="t">${tokens} token responses</span><span class="f">${failures} failures</span></div>
      </section>
      <section class="card" aria-labelledby="timeline-h">
        <h2 id="timeline-h">Recent activity</h2>
        <p class="sub">Every step of linking and refreshing, newest first. Failures say what went wrong and what to do.</p>
        <div class="filters">
          <a href="${ctx.prefix}/activity" ${new SafeHtml(failuresOnly ? '' : ' aria-current="page"')}>All</a
          ><a href="${ctx.prefix}/activity?failures=1" ${new SafeHtml(failuresOnly ? ' aria-current="page"' : '')}>Failures only</a>
        </div>
        ${
          entries.length
            ? html`<ol class="timeline">
                ${entries.map((e) => timelineItem(e, ctx.now))}
              </ol>`
            : html`<div class="empty">
                <strong>${failuresOnly ? 'No failures' : 'Nothing yet'}</strong
                >${failuresOnly ? 'Nothing has gone wrong recently.' : 'Steps of linking appear here as they happen.'}
              </div>`
        }
      </section>`,
  );
}

export function messagePage(ctx: PageContext, tab: Tab, title: string, message: string): string {
  return layout(
    ctx,
    tab,
    title,
    html`<section class="card">
      <h2>${title}</h2>
      <p class="callout err">${message}</p>
      <p><a class="button" href="${ctx.prefix}${tab === 'status' ? '/' : `/${tab}`}">Back</a></p>
    </section>`,
  );
}
