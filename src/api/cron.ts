// CronJob schedules: parsing and next-run times, with time zones. Kubernetes parses schedules with
// robfig/cron's standard parser (five fields, or a macro: @yearly @annually @monthly @weekly @daily
// @midnight @hourly, or @every <duration>); the arithmetic (day-of-month OR day-of-week, DST gaps and
// overlaps in a named zone) is cron-parser's. Pure: the clock is always passed in.
//
// KUBELITE_CRON_SECONDS=1 (tests and benchmarks only) also accepts six fields with seconds first, so a
// test can watch a CronJob run every few seconds instead of once a minute.

import { CronExpressionParser } from 'cron-parser';

export interface CronSchedule {
  /** The first run strictly after `after`. */
  next(after: Date): Date;
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const NAMES = new Set(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);

/** Whether six-field schedules (seconds first) are accepted: a switch for tests and benchmarks only. */
export function secondsFieldAllowed(): boolean {
  return process.env.KUBELITE_CRON_SECONDS === '1';
}

/** A Go duration (`1h30m`, `90s`, `1.5h`) in milliseconds, or undefined. */
export function parseGoDuration(s: string): number | undefined {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  if (!s) return undefined;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * unit[m[2]];
    pos = re.lastIndex;
  }
  return pos === s.length && pos > 0 ? total : undefined;
}

function checkAtoms(field: string): string | undefined {
  for (const part of field.split(',')) {
    const [range, step] = part.split('/');
    if (step !== undefined && !/^\d+$/.test(step)) return `invalid step ${JSON.stringify(step)}`;
    for (const atom of range.split('-')) {
      if (atom === '*' || atom === '?' || /^\d+$/.test(atom) || NAMES.has(atom.toLowerCase())) continue;
      return `invalid value ${JSON.stringify(atom)}`;
    }
  }
  return undefined;
}

/** The schedule, or the reason it is invalid (the message of a 422 on spec.schedule). */
export function parseCronSchedule(schedule: string, timeZone?: string): { schedule: CronSchedule; error?: undefined } | { schedule?: undefined; error: string } {
  const text = schedule.trim();
  if (!text) return { error: 'empty spec string' };
  if (/^(CRON_)?TZ=/.test(text) || /\s(CRON_)?TZ=/.test(text)) return { error: 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead' };
  if (text.startsWith('@every ')) {
    const ms = parseGoDuration(text.slice(7).trim());
    if (ms === undefined) return { error: `failed to parse duration ${text}` };
    const step = Math.max(1000, Math.floor(ms / 1000) * 1000);
    return { schedule: { next: (after) => new Date(Math.floor(after.getTime() / 1000) * 1000 + step) } };
  }
  let expr = text;
  if (text.startsWith('@')) {
    expr = MACROS[text.toLowerCase()];
    if (!expr) return { error: `unrecognized descriptor: ${text}` };
  }
  const fields = expr.split(/\s+/);
  const seconds = secondsFieldAllowed() && fields.length === 6;
  if (fields.length !== 5 && !seconds) return { error: `expected exactly 5 fields, found ${fields.length}: ${text}` };
  for (const f of fields) {
    const bad = checkAtoms(f);
    if (bad) return { error: `${bad} in ${JSON.stringify(f)}: ${text}` };
  }
  const normalized = seconds ? expr : `0 ${expr}`;
  try {
    CronExpressionParser.parse(normalized, { tz: timeZone || 'UTC' });
  } catch (err) {
    return { error: (err as Error).message };
  }
  return {
    schedule: {
      next(after) {
        const it = CronExpressionParser.parse(normalized, { currentDate: after, tz: timeZone || 'UTC' });
        return it.next().toDate();
      },
    },
  };
}

/** Why a time zone name is invalid, or undefined (Kubernetes: an IANA name, not "" or "Local"). */
export function timeZoneError(tz: string): string | undefined {
  if (tz === '') return 'timeZone must be nil or non-empty string';
  if (tz.toLowerCase() === 'local') return 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones';
  if (!/^[A-Za-z0-9_+\-/]+$/.test(tz)) return `unknown time zone ${tz}`;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    return `unknown time zone ${tz}`;
  }
  return undefined;
}

/** RFC 3339 of `t` as seen in `timeZone` (the cronjob-scheduled-timestamp annotation). */
export function formatInZone(t: Date, timeZone?: string): string {
  const tz = timeZone || 'UTC';
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  const local = Date.UTC(Number(get('year')), Number(get('month')) - 1, Number(get('day')), Number(get('hour')), Number(get('minute')), Number(get('second')));
  const offsetMin = Math.round((local - Math.floor(t.getTime() / 1000) * 1000) / 60_000);
  const stamp = `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`;
  if (offsetMin === 0) return `${stamp}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${stamp}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
