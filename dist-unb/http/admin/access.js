"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.LOOPBACK = exports.INGRESS_PROXY = void 0;
exports.peerAddress = peerAddress;
exports.allowOnly = allowOnly;
exports.listenerHostOnly = listenerHostOnly;
exports.ingressPrefix = ingressPrefix;
exports.ingressUser = ingressUser;
exports.createCsrf = createCsrf;
/**
 * Who may use the admin listener, and the two things every admin page needs from a request: the Ingress prefix
 * its links must carry, and a CSRF token for its forms.
 *
 * The admin UI has no login of its own: in the add-on, Home Assistant authenticates the user and its Ingress
 * proxy (always 172.30.32.2) is the only peer allowed. The check reads the socket's peer address, never a header:
 * headers are written by whoever connects.
 */
const node_crypto_1 = require("node:crypto");
const node_net_1 = require("node:net");
const tokens_1 = require("../../crypto/tokens");
exports.INGRESS_PROXY = '172.30.32.2';
exports.LOOPBACK = ['127.0.0.1', '::1'];
/** ::ffff:172.30.32.2 (an IPv4 peer on a dual-stack socket) -> 172.30.32.2 */
function peerAddress(req) {
    const raw = req.socket.remoteAddress ?? '';
    return raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
}
/** Refuses (403) every request whose TCP peer is not in `allow`. Unix-socket peers have no address and are refused too. */
function allowOnly(allow, onRefused) {
    const allowed = new Set(allow);
    return (req, res, next) => {
        const address = peerAddress(req);
        if (allowed.has(address)) {
            next();
            return;
        }
        onRefused(req, address || '(unknown)');
        res
            .status(403)
            .set('Cache-Control', 'no-store')
            .type('text/plain')
            .send('Forbidden: the admin page accepts connections only from the Home Assistant Ingress proxy (or loopback outside the add-on). Open it from the Home Assistant sidebar.\n');
    };
}
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
/**
 * Outside Ingress the admin listener is reached from a browser on the same machine, and such a browser runs
 * other sites' scripts: a page whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding) becomes "same origin"
 * with us and could read a form token and post "Revoke all". Its requests still name its own host, so only the
 * names of this listener are served: localhost, 127.0.0.1 or [::1] with the listener's port (an IP literal too
 * when the peer is not loopback, e.g. ADMIN_ALLOW with a LAN address: an IP literal cannot be rebound). Anything
 * else is 421 Misdirected Request. Not used behind Ingress, whose proxy is the only peer and sets the Host itself.
 */
function listenerHostOnly(onRefused) {
    return (req, res, next) => {
        const host = (req.headers.host ?? '').toLowerCase();
        const port = String(req.socket.localPort ?? '');
        const colon = host.lastIndexOf(':');
        const hasPort = colon > host.lastIndexOf(']');
        const name = hasPort ? host.slice(0, colon) : host;
        const portOk = hasPort ? host.slice(colon + 1) === port : port === '80';
        const loopbackPeer = ['127.0.0.1', '::1'].includes(peerAddress(req)) || peerAddress(req).startsWith('127.');
        const nameOk = LOOPBACK_NAMES.has(name) || (!loopbackPeer && (0, node_net_1.isIP)(name.replace(/^\[|\]$/g, '')) !== 0);
        if (host.length <= 300 && portOk && nameOk) {
            next();
            return;
        }
        onRefused(req, host.slice(0, 100));
        res
            .status(421)
            .set('Cache-Control', 'no-store')
            .type('text/plain')
            .send(`Misdirected request: this admin page answers only at http://localhost:${port}/ (or 127.0.0.1, [::1]); open it by that address.\n`);
    };
}
const INGRESS_PATH = /^(\/[A-Za-z0-9._~-]+){1,8}$/;
/**
 * The path prefix Home Assistant's Ingress proxy serves us under (X-Ingress-Path, e.g. /api/hassio_ingress/<token>),
 * or '' when reached directly. Only shapes a path can have are accepted: it ends up in links and Location headers.
 */
function ingressPrefix(req) {
    const value = req.get('x-ingress-path');
    if (!value || value.length > 300)
        return '';
    let end = value.length; // trailing slashes, by a scan: /\/+$/ is quadratic on "////...x"
    while (end > 0 && value[end - 1] === '/')
        end--;
    const trimmed = value.slice(0, end);
    // Linear: each repeated group starts with "/", which its class excludes.
    return trimmed.length <= 256 && INGRESS_PATH.test(trimmed) ? trimmed : '';
}
/** The Home Assistant user Ingress names in X-Remote-User-* (trusted: only the proxy can connect). */
function ingressUser(req) {
    const name = req.get('x-remote-user-display-name') || req.get('x-remote-user-name');
    return name ? name.slice(0, 64) : undefined;
}
const CSRF_LIFETIME_MS = 12 * 3600 * 1000;
/**
 * Stateless CSRF tokens: an HMAC of the issue time under a key that lives as long as the process. A page from
 * this server carries one; a forged cross-site form cannot (it cannot read our pages). After a restart, old
 * pages' forms are refused with "reload the page".
 */
function createCsrf(now = Date.now) {
    const key = (0, node_crypto_1.randomBytes)(32);
    const mac = (issued) => (0, node_crypto_1.createHmac)('sha256', key).update(`admin-csrf:${issued}`).digest('base64url');
    return {
        token() {
            const issued = now().toString(36);
            return `${issued}.${mac(issued)}`;
        },
        verify(token) {
            if (typeof token !== 'string' || token.length > 128)
                return false;
            const [issued, sig] = token.split('.');
            if (!issued || !sig || !(0, tokens_1.safeEqual)(sig, mac(issued)))
                return false;
            const age = now() - parseInt(issued, 36);
            return age >= -60_000 && age <= CSRF_LIFETIME_MS;
        },
    };
}
//# sourceMappingURL=access.js.map