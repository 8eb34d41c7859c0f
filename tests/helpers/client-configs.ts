/** Alexa's client as the grant handlers see it (config/config.ts), for the tests that call them without HTTP. */
import { ClientConfig } from '../../src/config/config';

export const ALEXA_CONFIG: ClientConfig = {
  clientId: 'amazon-alexa',
  clientType: 'confidential',
  clientSecret: 'alexa-console-secret-0123456789abcdef',
  redirectUris: ['https://layla.amazon.com/api/skill/link/M2TESTVENDOR'],
  scopes: ['music.read', 'music.control'],
};
