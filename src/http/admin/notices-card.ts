/**
 * The Status page's list of Home Assistant notifications: each notice as it was sent (or would have been), with
 * its cause and whether it reached Home Assistant. Values from requests are shown as <code>, escaped like all
 * else by the html template.
 */
import { SafeHtml, html } from '../pages/html';
import type { Delivery, NoticeRecord, Notifier } from '../../ops/notifications';
import type { Text } from '../../ops/notice-text';
import { formatDate, relative } from './pages';

const DELIVERY: Record<Delivery, string> = {
  sending: 'being sent to Home Assistant',
  delivered: 'shown in Home Assistant',
  failed: 'not delivered',
  off: 'not sent: notifications are off',
  no_supervisor: 'not sent: not running under the Supervisor',
};

function textHtml(text: Text): SafeHtml[] {
  return text.map((s) =>
    typeof s === 'string' ? html`${s}` : 'value' in s ? html`<code class="inline">${s.value}</code>` : html`${s.prose}`,
  );
}

function item(n: NoticeRecord, now: number): SafeHtml {
  const iso = new Date(n.at).toISOString();
  const cls = n.cause === 'storage_recovered' ? 'ok' : n.category === 'security' ? 'security' : 'error';
  return html`<li class="${cls}" data-cause="${n.cause}" data-delivery="${n.delivery}">
    <div class="when"><span class="rel">${relative(iso, now)}</span><time datetime="${iso}">${formatDate(iso)}</time></div>
    <span class="mark" aria-hidden="true"></span>
    <div class="body">
      <div><span class="headline">${n.title}</span> <span class="chip">${n.cause}</span></div>
      <p class="problem">${textHtml(n.happened)}</p>
      <p class="problem"><strong>Why:</strong> ${textHtml(n.why)}</p>
      <p class="fix"><strong>What to do:</strong> ${textHtml(n.fix)}</p>
      <p class="who">
        ${DELIVERY[n.delivery]}${n.problem ? html`: ${n.problem}` : ''}${n.repeats ? html` &middot; happened ${n.repeats} more time${n.repeats === 1 ? '' : 's'} since, not notified again within the hour` : ''}
      </p>
    </div>
  </li>`;
}

export function noticesCard(notices: Pick<Notifier, 'recent' | 'mode'>, now: number): SafeHtml {
  const list = notices.recent();
  return html`<section class="card" aria-labelledby="notices-h">
    <h2 id="notices-h">Notifications in Home Assistant</h2>
    <p class="sub">${notices.mode}.</p>
    ${
      list.length
        ? html`<ol class="timeline" id="notices">
            ${list.map((n) => item(n, now))}
          </ol>`
        : html`<div class="empty" id="no-notices">
            <strong>No notices since the add-on started</strong>Broken links, attacks and database faults appear here.
          </div>`
    }
  </section>`;
}
