/**
 * One Heroku log line with its envelope, whichever shape it arrived in: a Logplex frame, a syslog
 * drain message, a `heroku logs` line, or a bare line with no envelope at all.
 */
export type LineShape = 'logplex' | 'syslog' | 'heroku-logs' | 'raw';

export interface HerokuLine {
  /** How the envelope was written. `raw` lines had no recognisable header. */
  shape: LineShape;
  /** Syslog facility (0-23), or -1 when the shape carries no PRI. */
  facility: number;
  /** Syslog severity (0-7), or -1 when the shape carries no PRI. */
  severity: number;
  /** The timestamp as written, or '' when there was none. */
  timestamp: string;
  /** The timestamp in microseconds since the epoch, or NaN when absent or unparsable. */
  timeUnixMicros: number;
  /** HOSTNAME: `host` on HTTPS drains, the drain token (`d.<uuid>`) on syslog drains. '' if none. */
  hostname: string;
  /** APP-NAME: `heroku` for the platform, `app` for dynos and add-ons. '' if none. */
  appName: string;
  /** PROCID: `router`, `web.1`, `api`, `heroku-postgres`, ... '' if none. */
  procId: string;
  /** MSGID, '' when `-` or absent. */
  msgId: string;
  /** STRUCTURED-DATA as written, '' when `-` or absent. */
  structuredData: string;
  /** The message text after the header, without the line terminator. */
  text: string;
  /** The whole line as received (without the line terminator), for raw records and debugging. */
  original: string;
  /**
   * True when the syslog header was not as Heroku writes it: no HOSTNAME (APP-NAME and PROCID read
   * one position left), a PRI above 191 (facility and severity -1), or a VERSION other than 1.
   * The line's kind is then read from its text first. Absent otherwise.
   */
  irregularHeader?: boolean;
}

/** A line with no recognisable envelope: the whole text is kept, nothing is guessed. */
export function rawLine(text: string): HerokuLine {
  return {
    shape: 'raw',
    facility: -1,
    severity: -1,
    timestamp: '',
    timeUnixMicros: NaN,
    hostname: '',
    appName: '',
    procId: '',
    msgId: '',
    structuredData: '',
    text,
    original: text,
  };
}
