/** The validated, typed configuration the server runs on. Built only by load-config.ts. */
export type ClientType = 'public' | 'confidential';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface ClientConfig {
  clientId: string;
  clientType: ClientType;
  /** Present exactly when clientType is confidential. */
  clientSecret?: string;
  redirectUris: string[];
  scopes: string[];
}

export interface UserConfig {
  username: string;
  password: string;
}

/** A service (e.g. Music Assistant or the skill's backend) allowed to introspect any token (RFC 7662). */
export interface ResourceServerConfig {
  id: string;
  secret: string;
}

export interface Config {
  /** Issuer and base of every URL we publish, without a trailing slash; undefined = derive from the request. */
  publicUrl?: string;
  users: UserConfig[];
  /**
   * Home Assistant users who may approve a link, as Home Assistant spells usernames (auth/username.ts haUsername);
   * empty: any Home Assistant user. Users from the `users` option are always allowed.
   */
  haAllowedUsers: string[];
  clients: ClientConfig[];
  accessTokenLifetime: number;
  authCodeLifetime: number;
  refreshTokenIdleLifetime: number;
  /** Superseded refresh tokens of a confidential client still honoured (see oauth/grants/refresh-policy.ts). */
  refreshTokenGraceGenerations: number;
  /** Seconds a superseded refresh token of a confidential client stays valid. */
  refreshTokenGracePeriod: number;
  trustedProxies: string[];
  logLevel: LogLevel;
  resourceServers: ResourceServerConfig[];
  /** Report linking failures, attacks and database faults as Home Assistant notifications (under the Supervisor). */
  notifications: boolean;
}

export const DEFAULTS = {
  access_token_lifetime: 3600,
  auth_code_lifetime: 300,
  refresh_token_idle_lifetime: 400 * 24 * 3600,
  refresh_token_grace_generations: 10,
  refresh_token_grace_period: 14 * 24 * 3600,
  log_level: 'info' as LogLevel,
  notifications: true,
};

/**
 * Every secret the options hold: a request that carries one where a name belongs must not get it logged. One
 * shorter than 8 characters (only a client secret can be, with a warning at start) would match ordinary words in
 * every line it is looked for in, and is left out.
 */
export function configuredSecrets(config: Config): string[] {
  return [
    ...config.clients.map((c) => c.clientSecret ?? ''),
    ...config.users.map((u) => u.password),
    ...config.resourceServers.map((r) => r.secret),
  ].filter((secret) => secret.length >= 8);
}
