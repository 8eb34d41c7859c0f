"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.RoutineTally = exports.isRoutine = exports.ROUTINE_SUMMARY_MS = void 0;
exports.ROUTINE_SUMMARY_MS = 3600 * 1000;
/** A success of this step is routine (the caller checks the outcome). */
const isRoutine = (e) => e.step === 'introspect' || (e.step === 'token' && e.grantType === 'refresh_token');
exports.isRoutine = isRoutine;
const counted = (n, one, many) => `${n} ${n === 1 ? one : many}`;
/** Routine successes since a point in time, for the hourly line. */
class RoutineTally {
    now;
    refreshes = 0;
    introspections = 0;
    since;
    constructor(now) {
        this.now = now;
        this.since = now();
    }
    count(entry) {
        if (entry.step === 'introspect')
            this.introspections++;
        else
            this.refreshes++;
    }
    /** The line for what was counted (undefined when nothing was), and the count starts over. */
    take() {
        const parts = [];
        if (this.refreshes > 0)
            parts.push(counted(this.refreshes, 'refresh', 'refreshes'));
        if (this.introspections > 0)
            parts.push(counted(this.introspections, 'introspection', 'introspections'));
        const since = new Date(this.since).toISOString();
        this.refreshes = 0;
        this.introspections = 0;
        this.since = this.now();
        return parts.length > 0 ? `${parts.join(' and ')} succeeded since ${since}` : undefined;
    }
}
exports.RoutineTally = RoutineTally;
//# sourceMappingURL=routine-successes.js.map