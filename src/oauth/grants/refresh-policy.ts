/**
 * Which refresh tokens of a grant are honoured: pure rules over the grant's RefreshState, with no storage.
 *
 * Confidential clients (Alexa always is): their refresh tokens are bound to the client's authentication
 * (RFC 9700 §4.14.2), so rotation with revoke-on-reuse is not needed, and for Alexa it is harmful: Alexa retries
 * when an answer is lost, refreshes concurrently and may keep any of the answers, and an invalid_grant makes it
 * unlink the user. Amazon asks servers to keep some earlier refresh tokens valid. So every refresh rotates, and an
 * earlier token stays valid while it is among the last `generations` superseded ones and was superseded less than
 * `periodSeconds` ago (its record expires at exactly that moment). A refresh never revokes the grant; a token outside the window is refused, nothing else.
 *
 * Public clients: rotation with reuse detection. The live tokens are the newest one and its racing siblings
 * (concurrent refreshes with the same token); presenting their parent again is a retry that adds a sibling, until
 * one of the siblings is itself rotated. Anything older is reuse: a sign the token was stolen, so the grant is revoked.
 * Reuse is recognised while the older token's record is kept (the same bounds as the grace window); a token older
 * still is unknown: refused, but it no longer revokes (the records are bounded, not kept forever).
 */
import { ClientType } from '../../config/config';
import { RefreshState, SupersededToken } from '../../store/records';
import { RefreshGrace } from '../grant-deps';

/** Bounds the siblings a burst of retries by a public client can create. */
export const MAX_LIVE_SIBLINGS = 8;

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
  const earlier = earlierGenerations(state);
  const index = earlier.findIndex((p) => p.hash === hash);
  if (clientType === 'public') return state.parent === hash ? { is: 'retry' } : { is: 'reuse' };
  if (index < 0) return { is: 'too_old' };
  const entry = earlier[index]!;
  const behind = index + 1;
  if (behind > grace.generations || now - entry.supersededAt >= grace.periodSeconds * 1000)
    return { is: 'too_old', behind, supersededAt: entry.supersededAt };
  return { is: 'grace', behind, supersededAt: entry.supersededAt };
}

/**
 * The superseded tokens newest first. A grant carried over from 1.0.0 may still name a parent that 1.0.0 allowed
 * again: for a confidential client it counts as the latest earlier generation.
 */
function earlierGenerations(state: RefreshState): SupersededToken[] {
  if (state.parent === undefined || state.previous.some((p) => p.hash === state.parent)) return state.previous;
  return [{ hash: state.parent, supersededAt: state.previous[0]?.supersededAt ?? 0 }, ...state.previous];
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
      return bounded(
        { ...state, live, previous: [...overflow.map((hash) => ({ hash, supersededAt: now })), ...state.previous] },
        overflow,
        grace,
        now,
      );
    }
    // The presented sibling becomes the parent; it and its siblings are earlier generations now (reuse if seen again).
    const superseded = state.live;
    const previous = [
      ...superseded.map((hash) => ({ hash, supersededAt: now })),
      ...state.previous.filter((p) => !superseded.includes(p.hash)),
    ];
    return bounded({ live: [newHash], parent: presented, previous, generation: state.generation + 1 }, superseded, grace, now);
  }
  // Confidential: whatever was presented, the newest token(s) become earlier generations, and the new one is the newest.
  const superseded = state.live;
  const earlier = earlierGenerations(state).filter((p) => !superseded.includes(p.hash));
  const previous = [...superseded.map((hash) => ({ hash, supersededAt: now })), ...earlier];
  return bounded({ live: [newHash], previous, generation: state.generation + 1 }, superseded, grace, now);
}

/** Keeps at most `generations` earlier tokens, none older than the period; reports what fell out. */
function bounded(state: RefreshState, superseded: string[], grace: RefreshGrace, now: number): Rotation {
  const keep: SupersededToken[] = [];
  const dropped: string[] = [];
  for (const p of state.previous) {
    if (keep.length < grace.generations && now - p.supersededAt < grace.periodSeconds * 1000) keep.push(p);
    else dropped.push(p.hash);
  }
  return { state: { ...state, previous: keep }, superseded: superseded.filter((h) => !dropped.includes(h)), dropped };
}
