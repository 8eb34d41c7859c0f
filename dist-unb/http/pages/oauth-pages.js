"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.NOT_ALLOWED_MESSAGE = void 0;
exports.loginPage = loginPage;
exports.consentPage = consentPage;
exports.errorPage = errorPage;
/** The pages a person sees while linking: log in, approve, or an error that says what to do. */
const html_1 = require("./html");
const SCOPE_WORDS = {
    'music.read': 'See your Music Assistant library, players and what is playing',
    'music.control': 'Play, pause and change music on your Music Assistant players',
};
/** Shown when a Home Assistant user with the right password is not in ha_allowed_users. */
exports.NOT_ALLOWED_MESSAGE = 'This Home Assistant account may not approve links here. Log in with an account the owner listed under ha_allowed_users in the add-on configuration, or ask the owner to add yours.';
/** `audience`: who can log in and approve, in words true for this configuration (UserAuthenticator.audience). */
function loginPage(ctx) {
    return (0, html_1.page)('Log in', ctx.nonce, (0, html_1.html) ` <h1>Link ${ctx.clientId} with Music Assistant</h1>
      <p class="sub">Log in to continue.${ctx.audience ? ` ${ctx.audience}` : ''}</p>
      ${ctx.error ? (0, html_1.html) `<p class="error" role="alert">${ctx.error}</p>` : ''}
      ${ctx.noSources ? (0, html_1.html) `<p class="error" role="alert">${ctx.noSources}</p>` : ''}
      <form method="post" action="login" autocomplete="on">
        <input type="hidden" name="request_id" value="${ctx.requestId}" />
        <input type="hidden" name="csrf" value="${ctx.csrf}" />
        <label for="username">Username</label>
        <input
          id="username"
          name="username"
          type="text"
          autocomplete="username"
          required
          maxlength="128"
          value="${ctx.username ?? ''}"
          autofocus
        />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" />
        <button type="submit">Log in</button>
      </form>`);
}
function consentPage(ctx) {
    const items = ctx.scopes.map((s) => (0, html_1.html) `<li><strong>${s}</strong>${SCOPE_WORDS[s] ? (0, html_1.html) ` &mdash; ${SCOPE_WORDS[s]}` : ''}</li>`);
    return (0, html_1.page)('Approve', ctx.nonce, (0, html_1.html) ` <h1>Allow ${ctx.clientId} to use your Music Assistant?</h1>
      <p class="sub">
        Logged in as <strong>${ctx.username}</strong>. After approval you are sent back to <code>${ctx.redirectHost}</code>.
      </p>
      ${ctx.scopes.length
        ? (0, html_1.html) `<p>It asks for:</p>
              <ul class="scopes">
                ${items}
              </ul>`
        : (0, html_1.html) `<p>It asks for basic access.</p>`}
      <form method="post" action="consent">
        <input type="hidden" name="request_id" value="${ctx.requestId}" />
        <input type="hidden" name="csrf" value="${ctx.csrf}" />
        <button type="submit" name="decision" value="approve">Approve &amp; Link Account</button>
        <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
      </form>`);
}
function errorPage(nonce, title, problem, fix) {
    return (0, html_1.page)(title, nonce, (0, html_1.html) ` <h1>${title}</h1>
      <p class="error" role="alert">${problem}</p>
      ${fix ? (0, html_1.html) `<p class="fix">${fix}</p>` : new html_1.SafeHtml('')}`);
}
//# sourceMappingURL=oauth-pages.js.map