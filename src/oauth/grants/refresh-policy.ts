/**
 * Which refresh tokens of a grant are honoured: pure rules over the grant's RefreshState, with no storage.
 *
 * Confidential clients (Alexa always is): their refresh tokens are bound to the client's authentication
 * (RFC 9700 §4.14.2), so rotation with revoke-on-reuse is not needed, and for Alexa it is harmful: Alexa retries
 * when an answer is lost, refreshes concurrently and may keep any of the answers, and an invalid_grant makes it
 * unlink the user. Amazon asks servers to keep some earlier refresh tokens valid. So:
 * - a refresh with the newest token (or any token issued beside it) starts a new generation: the newest tokens
 *   become earlier ones and the new token is the newest;
 * - a refresh with an earlier token (a retry, a concurrent refresh, a kept older answer) adds its answer beside the
 *   newest tokens and pushes nothing back, so no number of retries or concurrent refreshes uses up the window;
 * - an earlier token stays valid while its generation is at most `generations` behind the newest and it was
 *   superseded less than `periodSeconds` ago (its record expires at exactly that moment).
 * A refresh never revokes the grant; a token outside the window is refused, nothing else.
 *
 * Public clients: rotation with reuse detection. The live tokens are the newest one and its racing siblings
 * (concurrent refreshes with the same token); presenting their parent again is a retry that adds a sibling, until
 * one of the siblings is itself rotated. Anything older is reuse: a sign the token was stolen, so the grant is revoked.
 * Reuse is recognised while the older token's record is kept (the same bounds as the grace window); a token older
 * still is unknown: refused, but it no longer revokes (the records are bounded, not kept forever). A sibling beyond
 * the cap is forgotten, not superseded: it was never rotated, so presenting it is no sign of theft.
 *
 * Every grant remembers at most MAX_REMEMBERED tokens, live and earlier, so its record stays small whatever a client
 * sends. Over that, the tokens a client is least likely to hold go first (see bounded): never the one it presents.
 */
import { ClientType } from '../../config/config';
import { RefreshState, SupersededToken } from '../../store/records';
import { RefreshGrace } from '../grant-deps';

/** Bounds the siblings a burst of retries by a public client can create. */
export const MAX_LIVE_SIBLINGS = 8;

/** Bounds the tokens one grant remembers, live and earlier: its record stays a few KB. */
export const MAX_REMEMBERED = 64;

export type RefreshStanding =
  /** The newest token (or a racing sibling): rotate from it. */
  | { is: 'current' }
  /** Public client: the parent of the live tokens, again: add a sibling. */
  | { is: 'retry' }
  /** Confidential client: an earlier generation inside the grace window: rotate from the newest. */
  | { is: 'grace'; behind: number; supersededAt: number }
  /** Confidential client: an earlier generation outside the window: refuse, touch nothing. */
  | { is: 'too_old'; behind?: number; supersededAt?: number }
  /** Public client: a superseded token presented again: revoke the grant. */
  | { is: 'reuse' };

/** How the presented token (by hash) stands in its grant. */
export function standing(state: RefreshState, hash: string, clientType: ClientType, grace: RefreshGrace, now: number): RefreshStanding {
  if (state.live.includes(hash)) return { is: 'current' };
  if (clientType === 'public') return state.parent === hash ? { is: 'retry' } : { is: 'reuse' };
  const entry = earlierGenerations(state).find((p) => p.hash === hash);
  if (!entry) return { is: 'too_old' };
  const behind = state.generation - entry.generation;
  if (behind > grace.generations || now - entry.supersededAt >= grace.periodSeconds * 1000)
    return { is: 'too_old', behind, supersededAt: entry.supersededAt };
  return { is: 'grace', behind, supersededAt: entry.supersededAt };
}

/** An earlier token with the generation it was live in. */
type Tagged = SupersededToken & { generation: number };

/**
 * The superseded tokens newest first, each with its generation. A grant carried over from 1.0.0 may still name a
 * parent that 1.0.0 allowed again: for a confidential client it counts as the latest earlier generation. Its
 * earlier tokens carry no generation: each counts one further back than the one before it.
 */
function earlierGenerations(state: RefreshState): Tagged[] {
  const legacyParent = state.parent !== undefined && !state.previous.some((p) => p.hash === state.parent);
  // As this release writes them: every entry tagged, nothing to copy (a refresh asks up to three times).
  if (!legacyParent && state.previous.every((p) => p.generation !== undefined)) return state.previous as Tagged[];
  const earlier = legacyParent
    ? [{ hash: state.parent!, supersededAt: state.previous[0]?.supersededAt ?? 0 }, ...state.previous]
    : state.previous;
  return earlier.map((p, i) => ({ ...p, generation: p.generation ?? state.generation - (i + 1) }));
}

export interface Rotation {
  state: RefreshState;
  /** Tokens that just became earlier generations: their records now live only through the grace window. */
  superseded: string[];
  /** Tokens that fell out of the window: their records are deleted. */
  dropped: string[];
}

/** The state after issuing `newHash` from a token of the given standing (current, retry or grace). */
export function rotate(
  state: RefreshState,
  presented: string,
  standingIs: 'current' | 'retry' | 'grace',
  newHash: string,
  clientType: ClientType,
  grace: RefreshGrace,
  now: number,
): Rotation {
  if (clientType === 'public') {
    if (standingIs === 'retry') {
      const live = [...state.live, newHash];
      const overflow = live.length > MAX_LIVE_SIBLINGS ? live.splice(0, live.length - MAX_LIVE_SIBLINGS) : [];
      const kept = bounded({ ...state, live }, [], grace, now);
      return { ...kept, dropped: [...overflow, ...kept.dropped] };
    }
    // The presented sibling becomes the parent; it and its siblings are earlier generations now (reuse if seen again).
    return advance(state, presented, true, newHash, grace, now);
  }
  // Confidential: an earlier token's answer joins the newest ones, and the generation stays. The presented token
  // was held by the client: it is kept before any answer that may never have reached it.
  if (standingIs === 'grace') {
    const earlier = earlierGenerations(state)
      .filter((p) => !state.live.includes(p.hash))
      .map((p) => (p.hash === presented ? held(p) : p));
    return bounded({ live: [...state.live, newHash], previous: earlier, generation: state.generation }, [], grace, now, presented);
  }
  return advance(state, presented, false, newHash, grace, now);
}

/** The entry without its `unused` mark. */
function held<T extends SupersededToken>({ unused: _, ...entry }: T): Omit<T, 'unused'> {
  return entry;
}

/**
 * A new generation from the presented live token: the live tokens become the latest earlier ones, and the new
 * token is the only live one. Its siblings are marked unused: the client never presented them, and once it
 * presents the generation's newest, it holds none of them but by a lost answer to that very refresh.
 */
function advance(state: RefreshState, presented: string, asParent: boolean, newHash: string, grace: RefreshGrace, now: number): Rotation {
  const superseded = state.live;
  // Newest first, as the earlier tokens are kept.
  const previous = [
    ...[...superseded]
      .reverse()
      .map((hash) => ({ hash, supersededAt: now, generation: state.generation, ...(hash === presented ? {} : { unused: true as const }) })),
    ...earlierGenerations(state).filter((p) => !superseded.includes(p.hash)),
  ];
  const next: RefreshState = { live: [newHash], ...(asParent ? { parent: presented } : {}), previous, generation: state.generation + 1 };
  return bounded(next, superseded, grace, now);
}

/**
 * Keeps the earlier tokens at most `generations` behind and superseded less than the period ago, and at most
 * MAX_REMEMBERED tokens in all. Over that, what a client is least likely to hold goes first: earlier tokens it
 * never presented (oldest first), then the oldest live siblings (never the newest), then earlier tokens it did
 * present (oldest first). Reports what fell out.
 */
function bounded(state: RefreshState, superseded: string[], grace: RefreshGrace, now: number, presented?: string): Rotation {
  const inWindow = (p: Tagged) => state.generation - p.generation <= grace.generations && now - p.supersededAt < grace.periodSeconds * 1000;
  const all = earlierGenerations(state);
  const dropped = all.filter((p) => !inWindow(p)).map((p) => p.hash);
  const earlier = all.filter(inWindow);
  let live = state.live;
  let excess = live.length + earlier.length - MAX_REMEMBERED;
  const dropEarlier = (which: (p: Tagged) => boolean) => {
    // Newest first: walking from the end drops the oldest.
    for (let i = earlier.length - 1; i >= 0 && excess > 0; i--) {
      if (!which(earlier[i]!)) continue;
      dropped.push(earlier.splice(i, 1)[0]!.hash);
      excess--;
    }
  };
  dropEarlier((p) => p.unused === true);
  if (excess > 0) {
    const cut = Math.min(excess, live.length - 1);
    dropped.push(...live.slice(0, cut));
    live = live.slice(cut);
    excess -= cut;
  }
  dropEarlier((p) => p.hash !== presented);
  return { state: { ...state, live, previous: earlier }, superseded: superseded.filter((h) => !dropped.includes(h)), dropped };
}
