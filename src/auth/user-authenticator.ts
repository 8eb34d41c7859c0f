/**
 * Who may log in to approve a link. Two sources: the `users` option (checked here) and, inside Home Assistant,
 * HA's own accounts through the Supervisor's auth API (supervisor-auth.ts).
 */
export type LoginResult =
  | { ok: true; username: string; source: 'options' | 'home-assistant' }
  | { ok: false; reason: 'bad_credentials' }
  /**
   * The password was right, but this Home Assistant user is not in ha_allowed_users. Told only after the
   * Supervisor accepted the password, so the answer is no oracle for anyone without it.
   */
  | { ok: false; reason: 'not_allowed'; username: string; detail: string }
  /** No source can decide (no users configured and no Supervisor, or the Supervisor did not answer). */
  | { ok: false; reason: 'unavailable'; detail: string };

export interface PasswordCheck {
  /** 'match', 'mismatch', or an explanation why this source cannot decide right now. */
  check(username: string, password: string): Promise<'match' | 'mismatch' | { unavailable: string }>;
}

export interface UserAuthenticator {
  login(username: string, password: string): Promise<LoginResult>;
  /** True when at least one source is configured (shown on the login page otherwise). */
  readonly hasSources: boolean;
  /** Who may approve a link, in words for the login page (what is true for this configuration). */
  readonly audience: string;
}
