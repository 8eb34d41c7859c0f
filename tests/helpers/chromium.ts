/**
 * Debian's Chromium for the browser tests (`apt-get install chromium`; `npx playwright install` cannot download
 * browsers here), started headless with nothing that reaches the network on its own.
 */
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];
