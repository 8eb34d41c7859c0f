/**
 * The add-on log: one human-readable line per event on stdout (what the Home Assistant Log tab shows),
 * with key=value context. Secrets are redacted by format, whatever the caller passed; and every line stays one
 * line: the message and each value go through untrusted() (control characters escaped, length capped), so
 * request data that reached a message cannot forge a line or drive the terminal of someone reading the log.
 */
import winston from 'winston';
import { LogLevel } from '../config/config';
import { LOG_LEVELS } from '../config/options-schema';
import { fingerprint } from '../crypto/tokens';
import { isSecretKey, redact } from './redact';
import { untrusted, untrustedTree } from './untrusted';
import { text } from './text';

/** Caps of the backstop: the callers cap request data far lower; these only bound a line whatever happens. */
const MESSAGE_MAX = 4096;
const VALUE_MAX = 4096;

export type Logger = winston.Logger;

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    const value = info[key];
    info[key] = isSecretKey(key) && typeof value === 'string' ? fingerprint(value) : redact(value);
  }
  return info;
});

const untrustedFormat = winston.format((info) => {
  info.message = untrusted(info.message, MESSAGE_MAX);
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    info[key] = untrustedTree(info[key], VALUE_MAX);
  }
  return info;
});

function formatValue(v: unknown): string {
  // A value that needs quotes is a JSON string: its backslashes are escaped too, so `a\" b=c` cannot close the
  // quotes early and add a field. One without spaces, quotes or = is written bare (its \xNN escapes stay single).
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

const lineFormat = winston.format.printf((info) => {
  const { level, message, timestamp, ...rest } = info as Record<string, unknown>;
  const context = Object.entries(rest)
    .filter(([k, v]) => typeof k === 'string' && v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  return `${text(timestamp)} ${text(level).toUpperCase().padEnd(5)} ${text(message)}${context ? ` ${context}` : ''}`;
});

export function createLogger(level: LogLevel, silent = false): Logger {
  const logger = winston.createLogger({
    level,
    silent,
    format: winston.format.combine(redactFormat(), untrustedFormat(), winston.format.timestamp(), lineFormat),
    transports: [new winston.transports.Console()],
  });
  // winston runs the whole format chain (redaction, escaping, the line) before its transport drops a message below
  // the level, so a debug line at level info cost as much as a written one: the level is checked first.
  // `this` is passed on, so a child logger (Object.create of this one) still writes with its own metadata.
  for (const name of LOG_LEVELS) {
    const write = logger[name] as (this: Logger | undefined, ...args: unknown[]) => Logger;
    logger[name] = function (this: Logger | undefined, ...args: unknown[]) {
      return logger.isLevelEnabled(name) ? write.apply(this, args) : (this ?? logger);
    } as winston.LeveledLogMethod;
  }
  return logger;
}
