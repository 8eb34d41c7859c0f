/** Password check against the `users` option. Constant time, and the same work whether or not the user exists. */
import { UserConfig } from '../config/config';
import { safeEqual } from '../crypto/tokens';
import { LoginResult, PasswordCheck, UserAuthenticator } from './user-authenticator';
import { haUsername } from '../config/username';

export function createOptionsUserCheck(users: UserConfig[]): PasswordCheck {
  return {
    check(username, password) {
      const user = users.find((u) => safeEqual(u.username, username));
      const matched = safeEqual(user?.password ?? '\u0000no-such-user', password);
      return Promise.resolve(user && matched ? 'match' : 'mismatch');
    },
  };
}

export interface UserSources {
  options?: PasswordCheck;
  homeAssistant?: PasswordCheck;
  /**
   * ha_allowed_users, already spelt as Home Assistant compares (haUsername); empty: every Home Assistant user.
   * Home Assistant's own MFA does not apply to the Supervisor's password check, so this list is how an owner keeps
   * the other household accounts from approving a link.
   */
  haAllowedUsers?: string[];
}

function audienceOf(sources: UserSources): string {
  const allowed = sources.haAllowedUsers ?? [];
  const ha = !sources.homeAssistant
    ? ''
    : allowed.length === 0
      ? 'any Home Assistant user of this home'
      : // Not named: the page is open to anyone, and a name is half of what a guesser needs.
        `the Home Assistant user${allowed.length === 1 ? '' : 's'} this add-on allows (ha_allowed_users)`;
  const extra = sources.options ? 'the users listed in the add-on configuration' : '';
  const who = [ha, extra].filter(Boolean).join(' and ');
  return who ? `Whoever logs in here can link this skill to Music Assistant: ${who}.` : '';
}

/**
 * Tries the configured users first, then Home Assistant's accounts. A Supervisor outage is reported as
 * 'unavailable' rather than as a wrong password, so the owner is told what is really wrong. A Home Assistant
 * login is recorded under the name Home Assistant knows the user by (stripped, lower-case), whatever spelling
 * was typed.
 */
export function createUserAuthenticator(sources: UserSources): UserAuthenticator {
  const allowed = new Set(sources.haAllowedUsers ?? []);
  return {
    hasSources: Boolean(sources.options || sources.homeAssistant),
    audience: audienceOf(sources),
    async login(username, password): Promise<LoginResult> {
      if (sources.options && (await sources.options.check(username, password)) === 'match') {
        return { ok: true, username, source: 'options' };
      }
      if (sources.homeAssistant) {
        const verdict = await sources.homeAssistant.check(username, password);
        if (verdict === 'match') {
          const name = haUsername(username);
          if (allowed.size > 0 && !allowed.has(name)) {
            return {
              ok: false,
              reason: 'not_allowed',
              username: name,
              detail: `Home Assistant user "${name}" logged in with the right password but is not in ha_allowed_users (${[...allowed].join(', ')})`,
            };
          }
          return { ok: true, username: name, source: 'home-assistant' };
        }
        if (verdict !== 'mismatch') return { ok: false, reason: 'unavailable', detail: verdict.unavailable };
      }
      if (!sources.options && !sources.homeAssistant) {
        return {
          ok: false,
          reason: 'unavailable',
          detail:
            'no one can log in: add a user under Configuration → users, or run inside Home Assistant with auth_api enabled to use Home Assistant accounts',
        };
      }
      return { ok: false, reason: 'bad_credentials' };
    },
  };
}
