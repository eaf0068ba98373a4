// Structured logs (pino): one JSON line per event on stderr, so stdout stays for what a user asked for.

import { pino, type Logger } from 'pino';

export type { Logger };

type LogFn = (obj: unknown, msg?: string) => void;

/**
 * The one logging surface kubelite code is written against: pino's Logger satisfies it, and so does a
 * test's recorder. Code that only warns asks for `Pick<LeveledLogger, 'warn'>`.
 */
export interface LeveledLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export function createLogger(level = 'info', name = 'kubelite'): Logger {
  return pino({ name, level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}

/** A logger that drops everything (unit tests, embedded use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
