/**
 * Heroku's error codes and their names, from Dev Center's "Heroku Error Codes" page.
 * H: router, R: runtime (dynos), L: Logplex.
 */
export const ERROR_CODE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  H10: 'App crashed',
  H11: 'Backlog too deep',
  H12: 'Request timeout',
  H13: 'Connection closed without response',
  H14: 'No web dynos running',
  H15: 'Idle connection',
  H16: 'Redirect to herokuapp.com',
  H17: 'Poorly formatted HTTP response',
  H18: 'Server request interrupted',
  H19: 'Backend connection timeout',
  H20: 'App boot timeout',
  H21: 'Backend connection refused',
  H22: 'Connection limit reached',
  H23: 'Endpoint misconfigured',
  H24: 'Forced close',
  H25: 'HTTP restriction',
  H26: 'Request error',
  H27: 'Client request interrupted',
  H28: 'Client connection idle',
  H31: 'Misdirected request',
  H32: 'TLS certificate mismatch',
  H80: 'Maintenance mode',
  H81: 'Blank app',
  H82: 'Free dyno quota exhausted',
  H83: 'Planned service degradation',
  H99: 'Platform error',
  R10: 'Boot timeout',
  R12: 'Exit timeout',
  R13: 'Attach error',
  R14: 'Memory quota exceeded',
  R15: 'Memory quota vastly exceeded',
  R16: 'Detached',
  R17: 'Checksum error',
  R99: 'Platform error',
  L10: 'Drain buffer overflow',
  L11: 'Tail buffer overflow',
  L12: 'Local buffer overflow',
  L13: 'Local delivery error',
  L14: 'Certificate validation error',
  L15: 'Tail buffer temporarily unavailable',
};

/**
 * Whether `s[start, start+3)` looks like an error code: H, R or L and two digits.
 */
export function isErrorCodeAt(s: string, start: number): boolean {
  const c = s.charCodeAt(start);
  if (c !== 72 && c !== 82 && c !== 76) return false;
  const d1 = s.charCodeAt(start + 1);
  const d2 = s.charCodeAt(start + 2);
  return d1 >= 48 && d1 <= 57 && d2 >= 48 && d2 <= 57;
}
