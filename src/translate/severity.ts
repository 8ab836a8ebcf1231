/**
 * Severity: OpenTelemetry SeverityNumber and a canonical text, from what a line states.
 */
export interface Severity {
  number: number;
  text: string;
}

export const SEVERITY_UNSPECIFIED: Severity = { number: 0, text: '' };
export const SEVERITY_TRACE: Severity = { number: 1, text: 'TRACE' };
export const SEVERITY_DEBUG: Severity = { number: 5, text: 'DEBUG' };
export const SEVERITY_INFO: Severity = { number: 9, text: 'INFO' };
export const SEVERITY_NOTICE: Severity = { number: 10, text: 'NOTICE' };
export const SEVERITY_WARN: Severity = { number: 13, text: 'WARN' };
export const SEVERITY_ERROR: Severity = { number: 17, text: 'ERROR' };
export const SEVERITY_CRITICAL: Severity = { number: 18, text: 'CRITICAL' };
export const SEVERITY_ALERT: Severity = { number: 19, text: 'ALERT' };
export const SEVERITY_FATAL: Severity = { number: 21, text: 'FATAL' };
export const SEVERITY_EMERGENCY: Severity = { number: 24, text: 'EMERGENCY' };

/** Syslog severities 0 (emergency) to 7 (debug). */
const BY_SYSLOG_SEVERITY: readonly Severity[] = [
  SEVERITY_EMERGENCY,
  SEVERITY_ALERT,
  SEVERITY_CRITICAL,
  SEVERITY_ERROR,
  SEVERITY_WARN,
  SEVERITY_NOTICE,
  SEVERITY_INFO,
  SEVERITY_DEBUG,
];

export function severityFromSyslog(severity: number): Severity {
  return BY_SYSLOG_SEVERITY[severity] ?? SEVERITY_UNSPECIFIED;
}

const BY_NAME: Readonly<Record<string, Severity>> = {
  trace: SEVERITY_TRACE,
  verbose: SEVERITY_TRACE,
  debug: SEVERITY_DEBUG,
  debug1: SEVERITY_DEBUG,
  debug2: SEVERITY_DEBUG,
  debug3: SEVERITY_DEBUG,
  debug4: SEVERITY_DEBUG,
  debug5: SEVERITY_DEBUG,
  info: SEVERITY_INFO,
  information: SEVERITY_INFO,
  informational: SEVERITY_INFO,
  log: SEVERITY_INFO,
  statement: SEVERITY_INFO,
  detail: SEVERITY_INFO,
  hint: SEVERITY_INFO,
  context: SEVERITY_INFO,
  query: SEVERITY_INFO,
  location: SEVERITY_INFO,
  notice: SEVERITY_NOTICE,
  warn: SEVERITY_WARN,
  warning: SEVERITY_WARN,
  error: SEVERITY_ERROR,
  err: SEVERITY_ERROR,
  critical: SEVERITY_CRITICAL,
  crit: SEVERITY_CRITICAL,
  alert: SEVERITY_ALERT,
  fatal: SEVERITY_FATAL,
  panic: SEVERITY_FATAL,
  emerg: SEVERITY_EMERGENCY,
  emergency: SEVERITY_EMERGENCY,
};

/** A level word (`warn`, `ERROR`, `Warning`) to a severity; undefined when it is not one. */
export function severityFromName(level: string): Severity | undefined {
  return BY_NAME[level] ?? BY_NAME[level.toLowerCase()];
}
