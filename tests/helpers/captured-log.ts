/** Our logger (its formats and level checks) with its lines collected instead of written to stdout. */
import { PassThrough } from 'node:stream';
import winston from 'winston';
import { LogLevel } from '../../src/config/config';
import { Logger, createLogger } from '../../src/log/logger';

export function capturedLogger(level: LogLevel): { log: Logger; lines: string[] } {
  const log = createLogger(level);
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...String(chunk).split('\n').filter(Boolean)));
  log.clear().add(new winston.transports.Stream({ stream }));
  return { log, lines };
}
