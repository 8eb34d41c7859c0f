"use strict";
/**
 * Alexa's account-linking redirect URLs, in one place: `https://{region host}/api/skill/link/{vendor id}`, one host
 * per Alexa region (North America, Europe, Far East). Configuration checks, diagnosis, explanations and
 * notifications all recognise them through here.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.ALEXA_REDIRECT_HOSTS = void 0;
exports.isAlexaHost = isAlexaHost;
exports.parseAlexaRedirect = parseAlexaRedirect;
exports.hasAlexaLinkPath = hasAlexaLinkPath;
exports.ALEXA_REDIRECT_HOSTS = ['pitangui.amazon.com', 'layla.amazon.com', 'alexa.amazon.co.jp'];
const LINK_PATH = /^\/api\/skill\/link\/([A-Za-z0-9]+)$/;
function isAlexaHost(hostname) {
    return exports.ALEXA_REDIRECT_HOSTS.includes(hostname);
}
/** The region host and vendor id of an Alexa redirect URL, or undefined for anything else (capped input). */
function parseAlexaRedirect(uri) {
    if (uri.length > 2048)
        return undefined;
    let url;
    try {
        url = new URL(uri);
    }
    catch {
        return undefined;
    }
    const vendorId = url.protocol === 'https:' && isAlexaHost(url.hostname) && url.port === '' && !url.search && !url.hash
        ? LINK_PATH.exec(url.pathname)?.[1]
        : undefined;
    return vendorId === undefined ? undefined : { host: url.hostname, vendorId };
}
/** Whether an Alexa host's URL has the path Alexa uses (the vendor id may be anything alphanumeric). */
function hasAlexaLinkPath(pathname) {
    return LINK_PATH.test(pathname);
}
//# sourceMappingURL=alexa.js.map