/** Reading a flow trace whose repeated entries may be counted into summary lines (log/trace-policy.ts). */
import { FlowEntry } from '../../src/log/flow-trace';
import { COALESCED, requestsIn } from '../../src/log/trace-policy';

export const isSummary = (e: FlowEntry): boolean => e.requestId === COALESCED;

/** Requests the entries stand for: one each, or what a summary counted. */
export const requests = (entries: FlowEntry[]): number => entries.reduce((n, e) => n + requestsIn(e), 0);
