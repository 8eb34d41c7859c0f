/** Password check against the `users` option. Constant time, and the same work whether or not the user exists. */
import { UserConfig } from '../config/config';
import { safeEqual } from '../oauth/secrets';
import { LoginResult, PasswordCheck, UserAuthenticator } from './user-authenticator';

export function createOptionsUserCheck(users: UserConfig[]): PasswordCheck {
  return {
    async check(username, password) {
      const user = users.find((u) => safeEqual(u.username, username));
      const matched = safeEqual(user?.password ?? '\u0000no-such-user', password);
      return user && matched ? 'match' : 'mismatch';
    },
  };
}

/**
 * Tries the configured users first, then Home Assistant's accounts. A Supervisor outage is reported as
 * 'unavailable' rather than as a wrong password, so the owner is told what is really wrong.
 */
export function createUserAuthenticator(sources: { options?: PasswordCheck; homeAssistant?: PasswordCheck }): UserAuthenticator {
  return {
    hasSources: Boolean(sources.options || sources.homeAssistant),
    async login(username, password): Promise<LoginResult> {
      if (sources.options && (await sources.options.check(username, password)) === 'match') {
        return { ok: true, username, source: 'options' };
      }
      if (sources.homeAssistant) {
        const verdict = await sources.homeAssistant.check(username, password);
        if (verdict === 'match') return { ok: true, username, source: 'home-assistant' };
        if (verdict !== 'mismatch') return { ok: false, reason: 'unavailable', detail: verdict.unavailable };
      }
      if (!sources.options && !sources.homeAssistant) {
        return {
          ok: false,
          reason: 'unavailable',
          detail: 'no one can log in: add a user under Configuration → users, or run inside Home Assistant with auth_api enabled to use Home Assistant accounts',
        };
      }
      return { ok: false, reason: 'bad_credentials' };
    },
  };
}
