/**
 * The refresh policy's pure rules (src/oauth/grants/refresh-policy.ts), table-driven in the manner of
 * ory/fosite's handler/oauth2/flow_refresh_test.go: every standing a presented token can have, for both client
 * types, and the state every rotation leaves, including the bounds (exactly `generations` back, exactly the grace
 * period) and the sibling cap of a public client.
 *
 * Policy under test:
 * - confidential: a refresh with a newest token starts a generation; one with an earlier token adds its answer
 *   beside the newest and pushes nothing back. An earlier token stays valid while its generation is at most
 *   `generations` behind AND it was superseded less than `periodSeconds` ago; otherwise too_old (never revoking).
 * - public: the live token and its racing siblings are current; their parent again is a retry (a new sibling, at
 *   most MAX_LIVE_SIBLINGS, the oldest forgotten beyond); anything older is reuse.
 * - either: at most MAX_REMEMBERED tokens per grant.
 */
import { ClientType } from '../../src/config/config';
import { RefreshGrace } from '../../src/oauth/grant-deps';
import { MAX_LIVE_SIBLINGS, MAX_REMEMBERED, RefreshStanding, rotate, standing } from '../../src/oauth/grants/refresh-policy';
import { RefreshState, SupersededToken } from '../../src/store/records';

const NOW = Date.parse('2031-06-01T12:00:00Z');
const HOUR = 3600;
/** Small bounds so the edges are easy to reach: 3 generations, one hour. */
const G: RefreshGrace = { generations: 3, periodSeconds: HOUR };
/** The defaults of the add-on: 10 generations, 14 days. */
const DEFAULT_GRACE: RefreshGrace = { generations: 10, periodSeconds: 14 * 24 * HOUR };

/** `ms` milliseconds before NOW. */
const ago = (ms: number) => NOW - ms;
/** An earlier token; without a generation, as a grant carried over from 1.0.0 records it (counted by position). */
const sup = (hash: string, at: number, generation?: number): SupersededToken => ({
  hash,
  supersededAt: at,
  ...(generation === undefined ? {} : { generation }),
});

/**
 * A confidential grant after several rotations: L is the newest token, P1..P5 the earlier ones (P1 the latest
 * superseded), one minute apart. It holds more earlier tokens than G.generations, as a grant does after the
 * operator lowers refresh_token_grace_generations.
 */
const chain: RefreshState = {
  live: ['L'],
  previous: [sup('P1', ago(60_000)), sup('P2', ago(120_000)), sup('P3', ago(180_000)), sup('P4', ago(240_000)), sup('P5', ago(300_000))],
  generation: 5,
};

describe("standing of a confidential client's token", () => {
  it.each<[string, RefreshState, string, RefreshGrace, RefreshStanding]>([
    ['the newest token', chain, 'L', G, { is: 'current' }],
    ['1 generation back', chain, 'P1', G, { is: 'grace', behind: 1, supersededAt: ago(60_000) }],
    ['2 generations back', chain, 'P2', G, { is: 'grace', behind: 2, supersededAt: ago(120_000) }],
    ['exactly `generations` back', chain, 'P3', G, { is: 'grace', behind: 3, supersededAt: ago(180_000) }],
    ['one more than `generations` back', chain, 'P4', G, { is: 'too_old', behind: 4, supersededAt: ago(240_000) }],
    ['two more than `generations` back', chain, 'P5', G, { is: 'too_old', behind: 5, supersededAt: ago(300_000) }],
    ['5 back under the default 10 generations', chain, 'P5', DEFAULT_GRACE, { is: 'grace', behind: 5, supersededAt: ago(300_000) }],
    ['a token the state no longer names (pruned)', chain, 'X', G, { is: 'too_old' }],
    [
      '1 back, superseded 1 ms less than the period ago',
      { live: ['L'], previous: [sup('P1', ago(HOUR * 1000 - 1))], generation: 1 },
      'P1',
      G,
      { is: 'grace', behind: 1, supersededAt: ago(HOUR * 1000 - 1) },
    ],
    [
      '1 back, superseded 1 ms more than the period ago',
      { live: ['L'], previous: [sup('P1', ago(HOUR * 1000 + 1))], generation: 1 },
      'P1',
      G,
      { is: 'too_old', behind: 1, supersededAt: ago(HOUR * 1000 + 1) },
    ],
    [
      '2 back, within the generations but superseded days ago',
      { live: ['L'], previous: [sup('P1', ago(1000)), sup('P2', ago(3 * 24 * HOUR * 1000))], generation: 2 },
      'P2',
      G,
      { is: 'too_old', behind: 2, supersededAt: ago(3 * 24 * HOUR * 1000) },
    ],
    [
      'a 1.0.0 parent beside recorded earlier generations: the latest earlier one, superseded with the first of them',
      { live: ['L'], parent: 'OLD', previous: [sup('P1', ago(5000))], generation: 4 },
      'OLD',
      G,
      { is: 'grace', behind: 1, supersededAt: ago(5000) },
    ],
    [
      'an earlier token behind a 1.0.0 parent counts one generation further back',
      { live: ['L'], parent: 'OLD', previous: [sup('P1', ago(5000))], generation: 4 },
      'P1',
      G,
      { is: 'grace', behind: 2, supersededAt: ago(5000) },
    ],
    [
      'a 1.0.0 parent as the upgrade writes it (also the first earlier token, superseded at the last refresh)',
      { live: ['L'], parent: 'OLD', previous: [sup('OLD', ago(7 * 24 * HOUR * 1000))], generation: 3 },
      'OLD',
      DEFAULT_GRACE,
      { is: 'grace', behind: 1, supersededAt: ago(7 * 24 * HOUR * 1000) },
    ],
    [
      'a parent that is also among the earlier tokens is not counted twice',
      { live: ['L'], parent: 'P1', previous: [sup('P1', ago(5000)), sup('P2', ago(6000))], generation: 4 },
      'P2',
      G,
      { is: 'grace', behind: 2, supersededAt: ago(6000) },
    ],
  ])('%s', (_what, state, hash, grace, expected) => {
    expect(standing(state, hash, 'confidential', grace, NOW)).toEqual(expected);
  });
});

describe("standing of a public client's token", () => {
  const racing: RefreshState = {
    live: ['S1', 'S2', 'S3'],
    parent: 'PARENT',
    previous: [sup('PARENT', ago(1000)), sup('OLDER', ago(2000))],
    generation: 2,
  };
  it.each<[string, string, RefreshStanding['is'], RefreshState]>([
    ['the newest token of a fresh link', 'R0', 'current', { live: ['R0'], previous: [], generation: 0 }],
    ['anything else on a fresh link (no parent yet)', 'X', 'reuse', { live: ['R0'], previous: [], generation: 0 }],
    ['the first racing sibling', 'S1', 'current', racing],
    ['the last racing sibling', 'S3', 'current', racing],
    ['the parent of the siblings, again', 'PARENT', 'retry', racing],
    ['a token older than the parent', 'OLDER', 'reuse', racing],
    ['a token the state no longer names', 'X', 'reuse', racing],
    // Public clients have no grace window: the parent is a retry however long ago it was superseded (its
    // record expires with the period; that is the storage's business, not the rule's).
    ['the parent, superseded weeks ago', 'PARENT', 'retry', { ...racing, previous: [sup('PARENT', ago(30 * 24 * HOUR * 1000))] }],
    // ...and no generations window either: one step back is already reuse.
    [
      'one generation back, well inside what a confidential client would be allowed',
      'P2',
      'reuse',
      { live: ['L'], parent: 'P1', previous: [sup('P1', ago(10)), sup('P2', ago(20))], generation: 2 },
    ],
  ])('%s: token %s is %s', (_what, hash, expected, state) => {
    expect(standing(state, hash, 'public', G, NOW).is).toBe(expected);
  });
});

describe("rotation of a confidential client's grant", () => {
  const base: RefreshState = { live: ['L'], previous: [sup('P1', ago(60_000)), sup('P2', ago(120_000))], generation: 2 };

  it('from the newest token: the new token is the only live one, the newest becomes 1 generation back, nothing else moves', () => {
    const r = rotate(base, 'L', 'current', 'N', 'confidential', G, NOW);
    expect(r).toEqual({
      state: { live: ['N'], previous: [sup('L', NOW, 2), sup('P1', ago(60_000), 1), sup('P2', ago(120_000), 0)], generation: 3 },
      superseded: ['L'],
      dropped: [],
    });
    expect(standing(r.state, 'L', 'confidential', G, NOW)).toEqual({ is: 'grace', behind: 1, supersededAt: NOW });
    expect(standing(r.state, 'N', 'confidential', G, NOW).is).toBe('current');
  });

  it.each(['P1', 'P2'])('from an earlier token (%s): the new token joins the newest, nothing is superseded or pushed back', (presented) => {
    const r = rotate(base, presented, 'grace', 'N', 'confidential', G, NOW);
    expect(r).toEqual({
      state: { live: ['L', 'N'], previous: [sup('P1', ago(60_000), 1), sup('P2', ago(120_000), 0)], generation: 2 },
      superseded: [],
      dropped: [],
    });
    expect(standing(r.state, presented, 'confidential', G, NOW)).toEqual(standing(base, presented, 'confidential', G, NOW));
    expect(['L', 'N'].map((h) => standing(r.state, h, 'confidential', G, NOW).is)).toEqual(['current', 'current']);
  });

  it.each<[string, RefreshState, RefreshGrace, Partial<{ previous: string[]; dropped: string[]; superseded: string[] }>]>([
    [
      'exactly `generations` earlier tokens after the rotation: all kept',
      { live: ['L'], previous: [sup('P1', ago(1)), sup('P2', ago(2))], generation: 2 },
      G,
      { previous: ['L', 'P1', 'P2'], dropped: [], superseded: ['L'] },
    ],
    [
      'one more than `generations`: the oldest is dropped',
      { live: ['L'], previous: [sup('P1', ago(1)), sup('P2', ago(2)), sup('P3', ago(3))], generation: 3 },
      G,
      { previous: ['L', 'P1', 'P2'], dropped: ['P3'], superseded: ['L'] },
    ],
    [
      'more than the bound left by a lowered setting: all the excess is dropped at once',
      { live: ['L'], previous: ['P1', 'P2', 'P3', 'P4', 'P5'].map((h, i) => sup(h, ago(i + 1))), generation: 5 },
      G,
      { previous: ['L', 'P1', 'P2'], dropped: ['P3', 'P4', 'P5'], superseded: ['L'] },
    ],
    [
      'an earlier token superseded 1 ms less than the period ago is kept',
      { live: ['L'], previous: [sup('P1', ago(HOUR * 1000 - 1))], generation: 1 },
      G,
      { previous: ['L', 'P1'], dropped: [] },
    ],
    [
      'an earlier token superseded 1 ms more than the period ago is dropped, even within the generations',
      { live: ['L'], previous: [sup('P1', ago(1)), sup('P2', ago(HOUR * 1000 + 1))], generation: 2 },
      G,
      { previous: ['L', 'P1'], dropped: ['P2'] },
    ],
    [
      'the default bounds: 10 generations',
      { live: ['L'], previous: Array.from({ length: 10 }, (_, i) => sup(`P${i + 1}`, ago(i + 1))), generation: 10 },
      DEFAULT_GRACE,
      { previous: ['L', ...Array.from({ length: 9 }, (_, i) => `P${i + 1}`)], dropped: ['P10'] },
    ],
  ])('%s', (_what, state, grace, expected) => {
    const r = rotate(state, 'L', 'current', 'N', 'confidential', grace, NOW);
    expect(r.state.live).toEqual(['N']);
    expect(r.state.generation).toBe(state.generation + 1);
    if (expected.previous) expect(r.state.previous.map((p) => p.hash)).toEqual(expected.previous);
    if (expected.dropped) expect(r.dropped).toEqual(expected.dropped);
    if (expected.superseded) expect(r.superseded).toEqual(expected.superseded);
  });

  it.each<['current' | 'grace', string, RefreshState, number]>([
    ['grace', 'OLD', { live: ['L', 'N'], previous: [sup('OLD', ago(5000), 6), sup('P1', ago(5000), 5)], generation: 7 }, 1],
    ['current', 'L', { live: ['N'], previous: [sup('L', NOW, 7), sup('OLD', ago(5000), 6), sup('P1', ago(5000), 5)], generation: 8 }, 2],
  ])(
    'a 1.0.0 parent is folded into the earlier generations, each tagged, and the parent field goes (from a %s token, %s)',
    (is, presented, expected, oldBehind) => {
      const legacy: RefreshState = { live: ['L'], parent: 'OLD', previous: [sup('P1', ago(5000))], generation: 7 };
      const r = rotate(legacy, presented, is, 'N', 'confidential', G, NOW);
      expect(r.state).toEqual(expected);
      expect(r.state.parent).toBeUndefined();
      expect(standing(r.state, 'OLD', 'confidential', G, NOW)).toEqual({ is: 'grace', behind: oldBehind, supersededAt: ago(5000) });
    },
  );

  // A chain of rotations played through both rules: after m rotations, the token issued k rotations ago is
  // `grace` exactly while k <= generations, and rotation never leaves more than `generations` earlier tokens.
  it.each([1, 2, 3, 4, 7])('a chain of %i rotations: each earlier token stands by how far back it is', (m) => {
    let state: RefreshState = { live: ['T0'], previous: [], generation: 0 };
    for (let i = 1; i <= m; i++) {
      const current = state.live[0]!;
      expect(standing(state, current, 'confidential', G, NOW).is).toBe('current');
      state = rotate(state, current, 'current', `T${i}`, 'confidential', G, NOW).state;
      expect(state.previous.length).toBeLessThanOrEqual(G.generations);
    }
    for (let k = 1; k <= m; k++) {
      const s = standing(state, `T${m - k}`, 'confidential', G, NOW);
      expect(s.is).toBe(k <= G.generations ? 'grace' : 'too_old');
      if (s.is === 'grace') expect(s.behind).toBe(k);
    }
  });

  /** `n` refreshes with R0, as the storage sees a burst or a run of retries whose answers were lost. */
  const burst = (n: number, grace: RefreshGrace) => {
    let state: RefreshState = { live: ['R0'], previous: [], generation: 0 };
    const standings: RefreshStanding[] = [];
    for (let i = 1; i <= n; i++) {
      const s = standing(state, 'R0', 'confidential', grace, NOW);
      standings.push(s);
      if (s.is !== 'current' && s.is !== 'grace') break;
      state = rotate(state, 'R0', s.is, `A${i}`, 'confidential', grace, NOW).state;
    }
    return { state, standings, answers: Array.from({ length: n }, (_, i) => `A${i + 1}`) };
  };

  it.each([2, 4, 12, 50, MAX_REMEMBERED - 2])(
    '%i refreshes with the same token (a burst, or retries of lost answers): R0 stays 1 back, every answer is the newest',
    (n) => {
      const { state, standings, answers } = burst(n, G);
      expect(standings).toEqual([{ is: 'current' }, ...Array<RefreshStanding>(n - 1).fill({ is: 'grace', behind: 1, supersededAt: NOW })]);
      expect(state.generation).toBe(1);
      expect(answers.map((a) => standing(state, a, 'confidential', G, NOW).is)).toEqual(Array<string>(n).fill('current'));
      expect(standing(state, 'R0', 'confidential', G, NOW).is).toBe('grace');
      // Whichever answer is kept and refreshed, the others and R0 stay inside the window.
      const kept = answers[n >> 1]!;
      const next = rotate(state, kept, 'current', 'K', 'confidential', G, NOW).state;
      expect(answers.map((a) => standing(next, a, 'confidential', G, NOW))).toEqual(
        answers.map(() => ({ is: 'grace', behind: 1, supersededAt: NOW })),
      );
      expect(standing(next, 'R0', 'confidential', G, NOW)).toEqual({ is: 'grace', behind: 2, supersededAt: NOW });
    },
  );

  // Alexa holds one token: the one it presented (when every answer was lost) or one of the answers, most likely the
  // last. Over the cap, what it is least likely to hold goes first, and never the token it presents.
  it('a burst (or a run of lost answers) beyond MAX_REMEMBERED: R0 always kept, the oldest answers forgotten', () => {
    const n = MAX_REMEMBERED + 6;
    const { state, standings, answers } = burst(n, G);
    expect(standings.every((s) => s.is === 'current' || s.is === 'grace')).toBe(true);
    expect(state.live).toEqual(answers.slice(n - (MAX_REMEMBERED - 1)));
    expect(state.previous).toEqual([sup('R0', NOW, 0)]);
    expect(standing(state, 'R0', 'confidential', G, NOW).is).toBe('grace');
  });

  it('over the cap after a new generation: unused answers go first (oldest first), then the oldest live ones, presented tokens last', () => {
    // A burst of 40 from R0, then A20 (kept) is presented: A20 and R0 were presented, the other 39 answers unused.
    let state = burst(40, G).state;
    state = rotate(state, 'A20', 'current', 'B0', 'confidential', G, NOW).state;
    expect(state.previous.filter((p) => p.unused).map((p) => p.hash)).toHaveLength(39);
    expect(state.previous.filter((p) => !p.unused).map((p) => p.hash)).toEqual(['A20', 'R0']);
    // Lost answers: A20 is presented again 30 times; its answers join B0.
    for (let i = 1; i <= 30; i++) state = rotate(state, 'A20', 'grace', `B${i}`, 'confidential', G, NOW).state;
    const kept = new Set([...state.live, ...state.previous.map((p) => p.hash)]);
    expect(kept.size).toBe(MAX_REMEMBERED);
    // 31 live + 41 earlier = 72: the 8 oldest unused answers (A1..A8) went; every B, A20 and R0 are kept.
    expect(['A1', 'A8'].map((h) => kept.has(h))).toEqual([false, false]);
    expect(['A9', 'A40', 'A20', 'R0', 'B0', 'B30'].map((h) => kept.has(h))).toEqual([true, true, true, true, true, true]);
    // Then past every unused answer: the oldest live ones go, never the newest, and A20 and R0 stay.
    for (let i = 31; i <= 100; i++) state = rotate(state, 'A20', 'grace', `B${i}`, 'confidential', G, NOW).state;
    expect(state.previous.map((p) => p.hash)).toEqual(['A20', 'R0']);
    expect(state.live).toEqual(Array.from({ length: MAX_REMEMBERED - 2 }, (_, i) => `B${100 - (MAX_REMEMBERED - 3) + i}`));
    expect(standing(state, 'A20', 'confidential', G, NOW)).toMatchObject({ is: 'grace', behind: 1 });
  });

  it('over the cap with only presented earlier tokens: the oldest go, but never the one presented now, nor the new answer', () => {
    const previous = Array.from({ length: 70 }, (_, i) => sup(`P${i}`, ago(i + 1), 4));
    const state: RefreshState = { live: ['L'], previous, generation: 5 };
    const r = rotate(state, 'P69', 'grace', 'N', 'confidential', DEFAULT_GRACE, NOW);
    const kept = [...r.state.live, ...r.state.previous.map((p) => p.hash)];
    expect(kept).toHaveLength(MAX_REMEMBERED);
    expect(kept).toEqual(expect.arrayContaining(['N', 'P69']));
    expect(r.dropped).not.toContain('P69');
    expect(standing(r.state, 'P69', 'confidential', DEFAULT_GRACE, NOW)).toMatchObject({ is: 'grace', behind: 1 });
  });

  it('ten generations of bursts of 7: every token presented in the window stays valid (the cap takes unused answers)', () => {
    let state: RefreshState = { live: ['K0'], previous: [], generation: 0 };
    for (let g = 1; g <= 10; g++) {
      const held = state.live[0]!;
      for (let i = 1; i <= 7; i++) {
        const s = standing(state, held, 'confidential', DEFAULT_GRACE, NOW);
        state = rotate(
          state,
          held,
          s.is as 'current' | 'grace',
          i === 7 ? `K${g}` : `S${g}.${i}`,
          'confidential',
          DEFAULT_GRACE,
          NOW,
        ).state;
      }
      // Alexa kept the last answer: move it to the front, as the one presented next.
      state = { ...state, live: [`K${g}`, ...state.live.filter((h) => h !== `K${g}`)] };
    }
    for (let g = 0; g < 10; g++)
      expect(standing(state, `K${g}`, 'confidential', DEFAULT_GRACE, NOW)).toMatchObject({ is: 'grace', behind: 10 - g });
  });

  it('an earlier token is pushed back only by new generations, never by retries in between', () => {
    // T0 -> T1 -> T2 (two generations); then T0 presented 20 times (retries): T0 stays 2 back, T1 1 back.
    let state: RefreshState = { live: ['T0'], previous: [], generation: 0 };
    state = rotate(state, 'T0', 'current', 'T1', 'confidential', G, NOW).state;
    state = rotate(state, 'T1', 'current', 'T2', 'confidential', G, NOW).state;
    for (let i = 0; i < 20; i++) state = rotate(state, 'T0', 'grace', `R${i}`, 'confidential', G, NOW).state;
    expect(standing(state, 'T0', 'confidential', G, NOW)).toMatchObject({ is: 'grace', behind: 2 });
    expect(standing(state, 'T1', 'confidential', G, NOW)).toMatchObject({ is: 'grace', behind: 1 });
    expect(state.live).toEqual(['T2', ...Array.from({ length: 20 }, (_, i) => `R${i}`)]);
    // One more generation from any of them and T0 is 3 back (the edge); a fourth pushes it out.
    state = rotate(state, 'R7', 'current', 'T3', 'confidential', G, NOW).state;
    expect(standing(state, 'T0', 'confidential', G, NOW)).toMatchObject({ is: 'grace', behind: 3 });
    const r = rotate(state, 'T3', 'current', 'T4', 'confidential', G, NOW);
    expect(r.dropped).toEqual(['T0']);
    expect(standing(r.state, 'R19', 'confidential', G, NOW)).toMatchObject({ is: 'grace', behind: 2 });
  });
});

describe("rotation of a public client's grant", () => {
  it('from the only live token: it becomes the parent and an earlier token, the new one is live', () => {
    const r = rotate({ live: ['R0'], previous: [], generation: 0 }, 'R0', 'current', 'A', 'public', G, NOW);
    expect(r).toEqual({
      state: { live: ['A'], parent: 'R0', previous: [sup('R0', NOW, 0)], generation: 1 },
      superseded: ['R0'],
      dropped: [],
    });
  });

  it('from one racing sibling: all the siblings are superseded, the presented one is the parent', () => {
    const state: RefreshState = { live: ['S1', 'S2', 'S3'], parent: 'P', previous: [sup('P', ago(1000))], generation: 1 };
    const r = rotate(state, 'S2', 'current', 'N', 'public', G, NOW);
    expect(r.state).toEqual({
      live: ['N'],
      parent: 'S2',
      previous: [{ ...sup('S3', NOW, 1), unused: true }, sup('S2', NOW, 1), { ...sup('S1', NOW, 1), unused: true }, sup('P', ago(1000), 0)],
      generation: 2,
    });
    // Siblings share their generation: P is 2 generations back, inside 3, and kept.
    expect(r.dropped).toEqual([]);
    expect(r.superseded).toEqual(['S1', 'S2', 'S3']);
    expect(['S1', 'S2', 'S3', 'N'].map((h) => standing(r.state, h, 'public', G, NOW).is)).toEqual(['reuse', 'retry', 'reuse', 'current']);
  });

  it('a retry adds a sibling: parent, earlier tokens and generation unchanged', () => {
    const state: RefreshState = { live: ['A'], parent: 'R0', previous: [sup('R0', ago(1000))], generation: 1 };
    const r = rotate(state, 'R0', 'retry', 'B', 'public', G, NOW);
    expect(r).toEqual({
      state: { live: ['A', 'B'], parent: 'R0', previous: [sup('R0', ago(1000), 0)], generation: 1 },
      superseded: [],
      dropped: [],
    });
  });

  const siblings = (n: number) => Array.from({ length: n }, (_, i) => `S${i + 1}`);
  it.each<[number, string[], string[]]>([
    [1, ['S1', 'N'], []],
    [MAX_LIVE_SIBLINGS - 1, [...siblings(MAX_LIVE_SIBLINGS - 1), 'N'], []],
    [MAX_LIVE_SIBLINGS, [...siblings(MAX_LIVE_SIBLINGS).slice(1), 'N'], ['S1']],
  ])('a retry with %i live siblings: live %j, the oldest sibling forgotten %j', (n, live, overflow) => {
    const state: RefreshState = { live: siblings(n), parent: 'P', previous: [sup('P', ago(1000), 0)], generation: 1 };
    const r = rotate(state, 'P', 'retry', 'N', 'public', DEFAULT_GRACE, NOW);
    expect(MAX_LIVE_SIBLINGS).toBe(8);
    expect(r.state.live).toEqual(live);
    expect(r.state.live.length).toBeLessThanOrEqual(MAX_LIVE_SIBLINGS);
    // Forgotten, not superseded: its record is deleted (refused as unknown, never revoking), since it was never rotated.
    expect(r.superseded).toEqual([]);
    expect(r.dropped).toEqual(overflow);
    expect(r.state.previous).toEqual([sup('P', ago(1000), 0)]);
    expect(r.state.parent).toBe('P');
  });

  it('a burst of 20 retries never holds more than 8 live siblings', () => {
    let state: RefreshState = { live: ['A'], parent: 'R0', previous: [sup('R0', ago(1))], generation: 1 };
    for (let i = 0; i < 20; i++) {
      expect(standing(state, 'R0', 'public', DEFAULT_GRACE, NOW).is).toBe('retry');
      state = rotate(state, 'R0', 'retry', `B${i}`, 'public', DEFAULT_GRACE, NOW).state;
      expect(state.live.length).toBeLessThanOrEqual(MAX_LIVE_SIBLINGS);
    }
    expect(state.live).toEqual(Array.from({ length: 8 }, (_, i) => `B${12 + i}`));
    expect(state.previous.length).toBeLessThanOrEqual(DEFAULT_GRACE.generations);
  });

  it("earlier tokens are bounded like a confidential client's: by generations and by the period", () => {
    const state: RefreshState = {
      live: ['L'],
      parent: 'P1',
      previous: [sup('P1', ago(1)), sup('P2', ago(HOUR * 1000 + 1)), sup('P3', ago(3))],
      generation: 3,
    };
    const r = rotate(state, 'L', 'current', 'N', 'public', G, NOW);
    // By position P1, P2, P3 are generations 2, 1, 0: after the rotation P2 is past the period, P3 4 back.
    expect(r.state.previous.map((p) => p.hash)).toEqual(['L', 'P1']);
    expect(r.dropped).toEqual(['P2', 'P3']);
  });
});

describe('the client type decides', () => {
  const state: RefreshState = { live: ['L'], parent: 'P1', previous: [sup('P1', ago(1)), sup('P2', ago(2))], generation: 2 };
  it.each<[ClientType, string, RefreshStanding['is']]>([
    ['confidential', 'L', 'current'],
    ['public', 'L', 'current'],
    ['confidential', 'P1', 'grace'],
    ['public', 'P1', 'retry'],
    ['confidential', 'P2', 'grace'],
    ['public', 'P2', 'reuse'],
  ])('%s client, token %s: %s', (type, hash, expected) => {
    expect(standing(state, hash, type, G, NOW).is).toBe(expected);
  });
});

describe('the edge of the grace period', () => {
  // Valid while superseded LESS than the period ago: the token's record expires at exactly supersededAt + period.
  it('superseded exactly the grace period ago: too_old', () => {
    const state: RefreshState = { live: ['L'], previous: [sup('P1', ago(HOUR * 1000))], generation: 1 };
    expect(standing(state, 'P1', 'confidential', G, NOW).is).toBe('too_old');
  });
  it('superseded exactly the grace period ago: dropped by the next rotation', () => {
    const state: RefreshState = { live: ['L'], previous: [sup('P1', ago(HOUR * 1000))], generation: 1 };
    expect(rotate(state, 'L', 'current', 'N', 'confidential', G, NOW).dropped).toEqual(['P1']);
  });
});
