/**
 * The flow trace: one structured entry per step of a link (authorize, login, consent, token, ...), written as
 * JSON lines to DATA_DIR/flow-trace.jsonl (size-bounded by winston's rotation) and summarised in the add-on log.
 * It replaces the predecessor's oauth_debug.log: failures carry their precise cause, secrets only fingerprints.
 */
import path from 'node:path';
import winston from 'winston';
import { Logger } from './logger';
import { redact } from './redact';

export type FlowStep = 'authorize' | 'login' | 'consent' | 'token' | 'revoke' | 'introspect' | 'admin';
export type FlowOutcome = 'ok' | 'error' | 'security';

export interface FlowEvent {
  requestId: string;
  step: FlowStep;
  outcome: FlowOutcome;
  clientId?: string;
  redirectUri?: string;
  grantType?: string;
  username?: string;
  grantId?: string;
  ip?: string;
  /** RFC error code sent to the client. */
  error?: string;
  /** Failure kind, e.g. redirect_uri_mismatch, pkce_mismatch, code_expired. */
  kind?: string;
  /** The precise cause and fix, for the operator. */
  cause?: string;
  detail?: Record<string, unknown>;
}

export interface FlowTrace {
  record(event: FlowEvent): void;
  close(): Promise<void>;
}

export const FLOW_TRACE_FILE = 'flow-trace.jsonl';

export function createFlowTrace(dataDir: string, log: Logger, opts: { maxBytes?: number; maxFiles?: number } = {}): FlowTrace {
  const file = new winston.transports.File({
    filename: path.join(dataDir, FLOW_TRACE_FILE),
    maxsize: opts.maxBytes ?? 2 * 1024 * 1024,
    maxFiles: opts.maxFiles ?? 5,
    tailable: true,
  });
  // The trace is diagnostic: a full disk must not take the OAuth server down with it.
  file.on('error', (err) => log.warn('flow trace cannot be written', { error: String(err) }));
  const trace = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [file] });

  return {
    record(event) {
      const entry = redact({ ts: new Date().toISOString(), ...event }) as Record<string, unknown>;
      trace.info('flow', entry);
      const { requestId, step, outcome, clientId, grantType, error, kind, cause, username, grantId } = event;
      const context = { requestId, clientId, grantType, username, grantId, error, kind };
      if (outcome === 'ok') log.info(`${step} ok`, context);
      else if (outcome === 'security') log.warn(`SECURITY ${step}: ${cause ?? error}`, context);
      else log.warn(`${step} failed: ${cause ?? error}`, context);
    },
    close: () =>
      new Promise((resolve) => {
        trace.on('finish', () => resolve());
        trace.end();
      }),
  };
}
