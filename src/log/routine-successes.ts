/**
 * Successes Alexa and a resource server repeat all day: a refresh an hour per link, an introspection per voice
 * request. Each is in the flow trace (beyond 30 a minute from one client, counted there: trace-policy.ts). The
 * add-on log writes each one only at log_level debug, where it would otherwise bury the lines that need the
 * operator (a link made, anything that failed) and cost a formatted line per request. Instead one line an hour
 * counts them, so the log at info still shows that the links are in use.
 */
import type { FlowEntry } from './trace-policy';

export const ROUTINE_SUMMARY_MS = 3600 * 1000;

/** A success of this step is routine (the caller checks the outcome). */
export const isRoutine = (e: Pick<FlowEntry, 'step' | 'grantType'>): boolean =>
  e.step === 'introspect' || (e.step === 'token' && e.grantType === 'refresh_token');

const counted = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** Routine successes since a point in time, for the hourly line. */
export class RoutineTally {
  private refreshes = 0;
  private introspections = 0;
  private since: number;

  constructor(private readonly now: () => number) {
    this.since = now();
  }

  count(entry: Pick<FlowEntry, 'step'>): void {
    if (entry.step === 'introspect') this.introspections++;
    else this.refreshes++;
  }

  /** The line for what was counted (undefined when nothing was), and the count starts over. */
  take(): string | undefined {
    const parts: string[] = [];
    if (this.refreshes > 0) parts.push(counted(this.refreshes, 'refresh', 'refreshes'));
    if (this.introspections > 0) parts.push(counted(this.introspections, 'introspection', 'introspections'));
    const since = new Date(this.since).toISOString();
    this.refreshes = 0;
    this.introspections = 0;
    this.since = this.now();
    return parts.length > 0 ? `${parts.join(' and ')} succeeded since ${since}` : undefined;
  }
}
