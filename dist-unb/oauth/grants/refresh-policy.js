"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.MAX_LIVE_SIBLINGS = void 0;
exports.standing = standing;
exports.rotate = rotate;
/** Bounds the siblings a burst of retries by a public client can create. */
exports.MAX_LIVE_SIBLINGS = 8;
/** How the presented token (by hash) stands in its grant. */
function standing(state, hash, clientType, grace, now) {
    if (state.live.includes(hash))
        return { is: 'current' };
    const earlier = earlierGenerations(state);
    const index = earlier.findIndex((p) => p.hash === hash);
    if (clientType === 'public')
        return state.parent === hash ? { is: 'retry' } : { is: 'reuse' };
    if (index < 0)
        return { is: 'too_old' };
    const entry = earlier[index];
    const behind = index + 1;
    if (behind > grace.generations || now - entry.supersededAt >= grace.periodSeconds * 1000)
        return { is: 'too_old', behind, supersededAt: entry.supersededAt };
    return { is: 'grace', behind, supersededAt: entry.supersededAt };
}
/**
 * The superseded tokens newest first. A grant carried over from 1.0.0 may still name a parent that 1.0.0 allowed
 * again: for a confidential client it counts as the latest earlier generation.
 */
function earlierGenerations(state) {
    if (state.parent === undefined || state.previous.some((p) => p.hash === state.parent))
        return state.previous;
    return [{ hash: state.parent, supersededAt: state.previous[0]?.supersededAt ?? 0 }, ...state.previous];
}
/** The state after issuing `newHash` from a token of the given standing (current, retry or grace). */
function rotate(state, presented, standingIs, newHash, clientType, grace, now) {
    if (clientType === 'public') {
        if (standingIs === 'retry') {
            const live = [...state.live, newHash];
            const overflow = live.length > exports.MAX_LIVE_SIBLINGS ? live.splice(0, live.length - exports.MAX_LIVE_SIBLINGS) : [];
            return bounded({ ...state, live, previous: [...overflow.map((hash) => ({ hash, supersededAt: now })), ...state.previous] }, overflow, grace, now);
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
function bounded(state, superseded, grace, now) {
    const keep = [];
    const dropped = [];
    for (const p of state.previous) {
        if (keep.length < grace.generations && now - p.supersededAt < grace.periodSeconds * 1000)
            keep.push(p);
        else
            dropped.push(p.hash);
    }
    return { state: { ...state, previous: keep }, superseded: superseded.filter((h) => !dropped.includes(h)), dropped };
}
//# sourceMappingURL=refresh-policy.js.map