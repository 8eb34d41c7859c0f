"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.noticesCard = noticesCard;
/**
 * The Status page's list of Home Assistant notifications: each notice as it was sent (or would have been), with
 * its cause and whether it reached Home Assistant. Values from requests are shown as <code>, escaped like all
 * else by the html template.
 */
const html_1 = require("../pages/html");
const pages_1 = require("./pages");
const DELIVERY = {
    sending: 'being sent to Home Assistant',
    delivered: 'shown in Home Assistant',
    failed: 'not delivered',
    off: 'not sent: notifications are off',
    no_supervisor: 'not sent: not running under the Supervisor',
};
function textHtml(text) {
    return text.map((s) => typeof s === 'string' ? (0, html_1.html) `${s}` : 'value' in s ? (0, html_1.html) `<code class="inline">${s.value}</code>` : (0, html_1.html) `${s.prose}`);
}
function item(n, now) {
    const iso = new Date(n.at).toISOString();
    const cls = n.cause === 'storage_recovered' ? 'ok' : n.category === 'security' ? 'security' : 'error';
    return (0, html_1.html) `<li class="${cls}" data-cause="${n.cause}" data-delivery="${n.delivery}">
    <div class="when"><span class="rel">${(0, pages_1.relative)(iso, now)}</span><time datetime="${iso}">${(0, pages_1.formatDate)(iso)}</time></div>
    <span class="mark" aria-hidden="true"></span>
    <div class="body">
      <div><span class="headline">${n.title}</span> <span class="chip">${n.cause}</span></div>
      <p class="problem">${textHtml(n.happened)}</p>
      <p class="problem"><strong>Why:</strong> ${textHtml(n.why)}</p>
      <p class="fix"><strong>What to do:</strong> ${textHtml(n.fix)}</p>
      <p class="who">
        ${DELIVERY[n.delivery]}${n.problem ? (0, html_1.html) `: ${n.problem}` : ''}${n.repeats ? (0, html_1.html) ` &middot; happened ${n.repeats} more time${n.repeats === 1 ? '' : 's'} since, not notified again within the hour` : ''}
      </p>
    </div>
  </li>`;
}
function noticesCard(notices, now) {
    const list = notices.recent();
    return (0, html_1.html) `<section class="card" aria-labelledby="notices-h">
    <h2 id="notices-h">Notifications in Home Assistant</h2>
    <p class="sub">${notices.mode}.</p>
    ${list.length
        ? (0, html_1.html) `<ol class="timeline" id="notices">
            ${list.map((n) => item(n, now))}
          </ol>`
        : (0, html_1.html) `<div class="empty" id="no-notices">
            <strong>No notices since the add-on started</strong>Broken links, attacks and database faults appear here.
          </div>`}
  </section>`;
}
//# sourceMappingURL=notices-card.js.map