import test from 'ava';
import { formatInZone, parseCronSchedule, parseGoDuration, timeZoneError } from '../../../src/api/cron.js';

const next = (schedule: string, after: string, tz?: string) => {
  const p = parseCronSchedule(schedule, tz);
  if (!p.schedule) throw new Error(p.error);
  return p.schedule.next(new Date(after)).toISOString();
};

test('five fields and macros, strictly after the given time', (t) => {
  t.is(next('*/5 * * * *', '2026-12-07T10:00:00Z'), '2026-12-07T10:05:00.000Z');
  t.is(next('*/5 * * * *', '2026-12-07T09:59:59.500Z'), '2026-12-07T10:00:00.000Z');
  t.is(next('@hourly', '2026-12-07T10:20:00Z'), '2026-12-07T11:00:00.000Z');
  t.is(next('@daily', '2026-12-07T10:20:00Z'), '2026-12-08T00:00:00.000Z');
  t.is(next('@midnight', '2026-12-07T10:20:00Z'), '2026-12-08T00:00:00.000Z');
  t.is(next('@weekly', '2026-12-07T10:20:00Z'), '2026-12-13T00:00:00.000Z');
  t.is(next('@monthly', '2026-12-07T10:20:00Z'), '2027-01-01T00:00:00.000Z');
  t.is(next('@yearly', '2026-12-07T10:20:00Z'), '2027-01-01T00:00:00.000Z');
  t.is(next('30 2 * * mon-fri', '2026-12-05T10:00:00Z'), '2026-12-07T02:30:00.000Z');
  // Day of month OR day of week when both are restricted (Vixie cron, robfig/cron).
  t.is(next('0 0 1 * 1', '2026-12-07T10:00:00Z'), '2026-12-14T00:00:00.000Z');
  t.is(next('@every 90s', '2026-12-07T10:00:00.400Z'), '2026-12-07T10:01:30.000Z');
});

test('time zones: the same wall-clock time moves with daylight saving', (t) => {
  t.is(next('0 9 * * *', '2026-12-07T00:00:00Z', 'America/New_York'), '2026-12-07T14:00:00.000Z');
  t.is(next('0 9 * * *', '2026-07-07T00:00:00Z', 'America/New_York'), '2026-07-07T13:00:00.000Z');
  t.is(next('0 0 * * *', '2026-12-07T10:00:00Z', 'Asia/Tokyo'), '2026-12-07T15:00:00.000Z');
  // Europe/Berlin springs forward at 02:00 local on 2026-03-29: hourly runs keep one per real hour.
  t.is(next('@hourly', '2026-03-29T00:30:00Z', 'Europe/Berlin'), '2026-03-29T01:00:00.000Z');
  t.is(next('0 12 * * *', '2026-12-07T10:00:00Z', 'Asia/Kolkata'), '2026-12-08T06:30:00.000Z');
});

test('invalid schedules say why (the message of the 422 on spec.schedule)', (t) => {
  t.regex(parseCronSchedule('* * * *').error!, /expected exactly 5 fields, found 4/);
  t.regex(parseCronSchedule('* * * * * *').error!, /expected exactly 5 fields, found 6/);
  t.regex(parseCronSchedule('61 * * * *').error!, /61/);
  t.regex(parseCronSchedule('0 0 L * *').error!, /invalid value "L"/);
  t.regex(parseCronSchedule('0 0 * * 1#2').error!, /invalid value/);
  t.regex(parseCronSchedule('TZ=UTC 0 * * * *').error!, /cannot use TZ or CRON_TZ in schedule, use timeZone field instead/);
  t.regex(parseCronSchedule('CRON_TZ=UTC 0 * * * *').error!, /cannot use TZ or CRON_TZ/);
  t.regex(parseCronSchedule('@reboot').error!, /unrecognized descriptor/);
  t.regex(parseCronSchedule('@every soon').error!, /failed to parse duration/);
  t.regex(parseCronSchedule('').error!, /empty spec/);
});

test('six fields (seconds first) only with the test switch KUBELITE_CRON_SECONDS=1', (t) => {
  const before = process.env.KUBELITE_CRON_SECONDS;
  try {
    process.env.KUBELITE_CRON_SECONDS = '1';
    t.is(next('*/3 * * * * *', '2026-12-07T10:00:01Z'), '2026-12-07T10:00:03.000Z');
    t.regex(parseCronSchedule('* * * * * * *').error!, /found 7/);
  } finally {
    if (before === undefined) delete process.env.KUBELITE_CRON_SECONDS;
    else process.env.KUBELITE_CRON_SECONDS = before;
  }
});

test('time zone names: IANA only, not "" or Local', (t) => {
  t.is(timeZoneError('Europe/Berlin'), undefined);
  t.is(timeZoneError('UTC'), undefined);
  t.is(timeZoneError('Etc/GMT+5'), undefined);
  t.is(timeZoneError('Mars/Olympus_Mons'), 'unknown time zone Mars/Olympus_Mons');
  t.is(timeZoneError('Local'), 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones');
  t.is(timeZoneError(''), 'timeZone must be nil or non-empty string');
  t.is(timeZoneError('../../etc/passwd'), 'unknown time zone ../../etc/passwd');
});

test('formatInZone renders RFC 3339 with the zone offset; Go durations parse', (t) => {
  t.is(formatInZone(new Date('2026-12-07T10:20:00Z')), '2026-12-07T10:20:00Z');
  t.is(formatInZone(new Date('2026-12-07T10:20:00Z'), 'America/New_York'), '2026-12-07T05:20:00-05:00');
  t.is(formatInZone(new Date('2026-12-07T10:20:00Z'), 'Asia/Kolkata'), '2026-12-07T15:50:00+05:30');
  t.is(parseGoDuration('1h30m'), 5_400_000);
  t.is(parseGoDuration('1.5s'), 1500);
  t.is(parseGoDuration('5x'), undefined);
});
