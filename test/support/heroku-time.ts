/** Timestamps as Heroku writes them, for lines tests build. */

/** `2024-05-01T12:00:00.123000+00:00`: RFC 5424 time with microseconds, as Logplex writes it. */
export function syslogTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000+00:00');
}
