// Structured logs (pino): one JSON line per event on stderr, so stdout stays for what a user asked for.

import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info', name = 'kubelite'): Logger {
  return pino({ name, level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}

/** A logger that drops everything (unit tests, embedded use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
