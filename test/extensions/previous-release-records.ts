/**
 * The records in test/extensions/fixtures/previous-release-queue: a queue's segment written by
 * the release before encoded queues (commit 1472d48's SegmentLog.append, v8-serialised records,
 * the first entry plain, the second deflated), for the tests that read it back.
 */
import type { Attributes, LogRecordData } from '../../src/translate/telemetry.ts';

export const PREVIOUS_RESOURCE: Attributes = { 'service.name': 'shop', 'heroku.app.name': 'shop', 'cloud.provider': 'heroku' };

export function previousReleaseRecords(): LogRecordData[] {
  const at = 1_714_564_800_104_521;
  return Array.from({ length: 5 }, (_, i) => ({
    timeUnixMicros: at + i,
    observedUnixMicros: at + 1000 + i,
    severityNumber: i === 4 ? 17 : 9,
    severityText: i === 4 ? 'ERROR' : 'INFO',
    body: i === 4 ? 'at=error code=H12 desc="Request timeout" method=GET path="/slow"' : `at=info method=GET path="/items/${i}" status=200 bytes=${100 + i} café`,
    eventName: 'heroku.router.request',
    attributes: { 'http.request.method': 'GET', 'url.path': `/items/${i}`, 'http.response.status_code': i === 4 ? 503 : 200, 'heroku.router.service_ms': 12.5 + i, 'heroku.dyno.names': ['web.1', 'web.2'], 'heroku.router.tls': i % 2 === 0 },
    traceId: i === 1 ? '4bf92f3577b34da6a3ce929d0e0e4736' : undefined,
    spanId: i === 1 ? '00f067aa0ba902b7' : undefined,
    traceFlags: i === 1 ? 1 : 0,
  }));
}
