/**
 * Log-trace correlation and route templates through the real process: the sidecar (a config file
 * with the logplex and syslog receivers) takes a request's app lines and its router line the way
 * Heroku delivers them (the app's first, in another batch; over HTTP and over syslog TCP), and
 * exports to a local OTLP backend that decodes each request with opentelemetry-proto's code.
 * The app lines that log the request id carry the trace id and span id derived from the router
 * line's request_id (trace-context.ts: the router span's ids); the router record and the duration
 * histogram carry the drain's url.template.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { traceIdsOfRequest } from '../../src/translate/trace-context.ts';
import { sidecarsWithSink } from '../support/sidecar.ts';
import { until } from '../support/wait.ts';

const TOKEN = 'd.5b4a3c2d-1111-4222-8333-444455556666';
const RID_HTTP = 'a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const RID_SYSLOG = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=='; // a client's X-Request-ID

const CONFIG = `
receivers:
  logplex:
    endpoint: 127.0.0.1:0
    drains:
      - token: \${env:DRAIN_TOKEN}
        resource: { service.name: shop-web }
    url_templates:
      patterns: ['/carts/{cart_id}/checkout']
  syslog:
    tcp: { endpoint: 127.0.0.1:0 }
    drains:
      - token: \${env:DRAIN_TOKEN}
        resource: { service.name: shop-web }
exporters:
  otlphttp:
    endpoint: \${env:SINK}
service:
  pipelines:
    logs: { receivers: [logplex, syslog], exporters: [otlphttp] }
    metrics: { receivers: [logplex, syslog], exporters: [otlphttp] }
`;

function frame(msg: string): string {
  return `${Buffer.byteLength(msg)} ${msg}`;
}

function router(now: string, path: string, requestId: string, host = 'host'): string {
  return `<158>1 ${now} ${host} heroku router - at=info method=POST path="${path}" host=shop.example.com request_id=${requestId} fwd="81.2.69.142" dyno=web.2 connect=1ms service=87ms status=201 bytes=310 protocol=https`;
}

const lab = sidecarsWithSink();

const attr = (r: any, key: string) => {
  const v = r.attributes?.find((a: any) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue;
};

describe('a request across its app lines and its router line, through the real receivers', () => {
  it('exports app lines with the trace id and span id of the router line\'s request id, and url.template on the router record and histogram', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-correlation-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, CONFIG);
    const sidecar = await lab.start(['start', '--config', config], { DRAIN_TOKEN: TOKEN, SINK: lab.sink.url, OTEL_METRIC_EXPORT_INTERVAL: '300' });
    const [httpPort, tcpPort] = await sidecar.ports(2);
    const now = new Date().toISOString();

    // Over HTTP: the app's lines first (Rails tags, JSON, logfmt, one of another request), then the router line.
    const appBody = [
      `<190>1 ${now} host app web.2 - [web.2] [${RID_HTTP}] Started POST "/carts/81723/checkout" for 81.2.69.142`,
      `<190>1 ${now} host app web.2 - {"level":"info","msg":"charged","request_id":"${RID_HTTP}"}`,
      `<190>1 ${now} host app web.2 - at=info request_id=${RID_HTTP} msg="receipt mailed"`,
      `<190>1 ${now} host app web.2 - at=info msg="cron tick"`,
    ].map(frame);
    const post = (body: string[]) =>
      fetch(`http://127.0.0.1:${httpPort}/logs`, { method: 'POST', body: body.join(''), headers: { 'logplex-drain-token': TOKEN, 'logplex-msg-count': String(body.length) } });
    expect((await post(appBody)).status).toBe(200);
    expect((await post([frame(router(now, '/carts/81723/checkout?step=2', RID_HTTP))])).status).toBe(200);

    // Over syslog TCP, octet-counted, the drain token as HOSTNAME.
    const syslogLines = [`<190>1 ${now} ${TOKEN} app web.1 - {"msg":"order saved","requestId":"${RID_SYSLOG}"}`, router(now, '/orders/5512/items', RID_SYSLOG, TOKEN)];
    await new Promise<void>((resolve, reject) => {
      const s = connect(tcpPort!, '127.0.0.1', () => s.end(syslogLines.map((l) => `${Buffer.byteLength(l)} ${l}`).join(''), () => resolve()));
      s.on('error', reject);
    });

    await until(() => lab.sink.logRecords().length >= 7, { timeoutMs: 10_000, what: '7 log records at the backend' });
    const records = lab.sink.logRecords();
    const bodyOf = (r: any) => r.body.stringValue as string;
    const routers = records.filter((r) => r.eventName === 'heroku.router.request');
    expect(routers).toHaveLength(2);

    for (const rid of [RID_HTTP, RID_SYSLOG]) {
      const routerRecord = routers.find((r) => attr(r, 'heroku.router.request_id') === rid)!;
      const ids = traceIdsOfRequest(attr(routerRecord, 'heroku.router.request_id'));
      const appRecords = records.filter((r) => r.eventName === 'heroku.app.log' && r.traceId === ids.traceId);
      expect(appRecords.length).toBe(rid === RID_HTTP ? 3 : 1);
      for (const r of appRecords) expect(r.spanId).toBe(ids.spanId);
      // The router's own record carries the same ids: a backend joins the request's lines on them.
      expect(routerRecord.traceId).toBe(ids.traceId);
      expect(routerRecord.spanId).toBe(ids.spanId);
    }
    // The line of no request has no trace context.
    const cron = records.find((r) => bodyOf(r) === 'cron tick')!;
    expect(cron.traceId ?? '').toBe('');

    expect(attr(routers.find((r) => attr(r, 'heroku.router.request_id') === RID_HTTP), 'url.template')).toBe('/carts/{cart_id}/checkout');
    expect(attr(routers.find((r) => attr(r, 'heroku.router.request_id') === RID_SYSLOG), 'url.template')).toBe('/orders/{id}/items');

    await until(
      () => {
        const templates = lab.sink
          .metrics()
          .filter((m) => m.name === 'http.server.request.duration')
          .flatMap((m) => m.histogram.dataPoints.map((p: any) => attr(p, 'url.template')));
        return templates.includes('/carts/{cart_id}/checkout') && templates.includes('/orders/{id}/items');
      },
      { timeoutMs: 10_000, what: 'duration histogram points with both url.templates' },
    );
  });
});
