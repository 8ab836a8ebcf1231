/**
 * The OpenTelemetry SDK packages of the sidecar's own telemetry (service.telemetry), each required
 * when a reader or log processor first needs it: a config without any loads none of them. Their
 * CommonJS builds, and src takes them only from here, so each is loaded once: their ES builds
 * `import` node:http, whose ES facade loads Node's own undici too (see src/node-http.ts).
 */
import { lazy } from '../lazy.ts';

export const otelApi = lazy<typeof import('@opentelemetry/api')>('@opentelemetry/api');
export const otelResources = lazy<typeof import('@opentelemetry/resources')>('@opentelemetry/resources');
export const sdkMetrics = lazy<typeof import('@opentelemetry/sdk-metrics')>('@opentelemetry/sdk-metrics');
export const sdkLogs = lazy<typeof import('@opentelemetry/sdk-logs')>('@opentelemetry/sdk-logs');
export const metricsOtlpHttp = lazy<typeof import('@opentelemetry/exporter-metrics-otlp-http')>('@opentelemetry/exporter-metrics-otlp-http');
export const metricsOtlpProto = lazy<typeof import('@opentelemetry/exporter-metrics-otlp-proto')>('@opentelemetry/exporter-metrics-otlp-proto');
export const logsOtlpHttp = lazy<typeof import('@opentelemetry/exporter-logs-otlp-http')>('@opentelemetry/exporter-logs-otlp-http');
export const logsOtlpProto = lazy<typeof import('@opentelemetry/exporter-logs-otlp-proto')>('@opentelemetry/exporter-logs-otlp-proto');
export const prometheusExporter = lazy<typeof import('@opentelemetry/exporter-prometheus')>('@opentelemetry/exporter-prometheus');
