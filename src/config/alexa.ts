/**
 * Alexa's account-linking redirect URLs, in one place: `https://{region host}/api/skill/link/{vendor id}`, one host
 * per Alexa region (North America, Europe, Far East). Configuration checks, diagnosis, explanations and
 * notifications all recognise them through here.
 */

export const ALEXA_REDIRECT_HOSTS: readonly string[] = ['pitangui.amazon.com', 'layla.amazon.com', 'alexa.amazon.co.jp'];

const LINK_PATH = /^\/api\/skill\/link\/([A-Za-z0-9]+)$/;

export function isAlexaHost(hostname: string): boolean {
  return ALEXA_REDIRECT_HOSTS.includes(hostname);
}

/** The region host and vendor id of an Alexa redirect URL, or undefined for anything else (capped input). */
export function parseAlexaRedirect(uri: string): { host: string; vendorId: string } | undefined {
  if (uri.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  const vendorId =
    url.protocol === 'https:' && isAlexaHost(url.hostname) && url.port === '' && !url.search && !url.hash
      ? LINK_PATH.exec(url.pathname)?.[1]
      : undefined;
  return vendorId === undefined ? undefined : { host: url.hostname, vendorId };
}

/** Whether an Alexa host's URL has the path Alexa uses (the vendor id may be anything alphanumeric). */
export function hasAlexaLinkPath(pathname: string): boolean {
  return LINK_PATH.test(pathname);
}
