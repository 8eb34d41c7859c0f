/**
 * The add-on log: one human-readable line per event on stdout (what the Home Assistant Log tab shows),
 * with key=value context. Secrets are redacted by format, whatever the caller passed.
 */
import winston from 'winston';
import { LogLevel } from '../config/config';
import { fingerprint } from '../oauth/secrets';
import { isSecretKey, redact } from './redact';

export type Logger = winston.Logger;

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    const value = info[key];
    info[key] = isSecretKey(key) && typeof value === 'string' ? fingerprint(value) : redact(value);
  }
  return info;
});

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

const lineFormat = winston.format.printf((info) => {
  const { level, message, timestamp, ...rest } = info as Record<string, unknown>;
  const context = Object.entries(rest)
    .filter(([k, v]) => typeof k === 'string' && v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  return `${timestamp} ${String(level).toUpperCase().padEnd(5)} ${message}${context ? ` ${context}` : ''}`;
});

export function createLogger(level: LogLevel, silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), lineFormat),
    transports: [new winston.transports.Console()],
  });
}
