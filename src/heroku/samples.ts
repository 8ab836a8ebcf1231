/**
 * `sample#key=valueUNIT` lines: dyno runtime metrics (log-runtime-metrics) and add-on metrics
 * (Heroku Postgres, Heroku Redis, and whatever add-on logs the same way). Every `sample#` key is
 * kept, known or not: Heroku adds keys such as `*-percentage-used` over time.
 */
import { LogfmtScanner, numberPrefixEnd } from './logfmt.ts';
import type { AddonSampleEvent, RuntimeSampleEvent, Sample } from './events.ts';

const scanner = new LogfmtScanner();

/** Whether the text holds at least one `sample#` pair. */
export function hasSamples(text: string): boolean {
  return text.includes('sample#');
}

/** Reads the current pair's value as number + unit (`15405636.0kB` is 15405636 and `kB`). */
function readSample(sc: LogfmtScanner, key: string): Sample | null {
  const s = sc.text;
  const stop = numberPrefixEnd(s, sc.valueStart, sc.valueEnd);
  if (stop === sc.valueStart) return null;
  return { key, value: Number(s.slice(sc.valueStart, stop)), unit: s.slice(stop, sc.valueEnd) };
}

interface SampleScan {
  source: string | undefined;
  dyno: string | undefined;
  addon: string | undefined;
  samples: Sample[];
  extra: Record<string, string> | undefined;
}

function scanSamples(text: string): SampleScan {
  const out: SampleScan = { source: undefined, dyno: undefined, addon: undefined, samples: [], extra: undefined };
  const sc = scanner.reset(text);
  while (sc.next()) {
    if (sc.keyEnd - sc.keyStart > 7 && text.startsWith('sample#', sc.keyStart)) {
      const sample = readSample(sc, text.slice(sc.keyStart + 7, sc.keyEnd));
      if (sample) {
        out.samples.push(sample);
        continue;
      }
    } else if (sc.keyIs('source')) {
      out.source = sc.value() || undefined;
      continue;
    } else if (sc.keyIs('dyno')) {
      out.dyno = sc.value() || undefined;
      continue;
    } else if (sc.keyIs('addon')) {
      out.addon = sc.value() || undefined;
      continue;
    }
    if (sc.keyEnd > sc.keyStart) (out.extra ??= {})[sc.key()] = sc.value();
  }
  return out;
}

/** A log-runtime-metrics line (`source=web.1 dyno=heroku.1.<uuid> sample#load_avg_1m=0.01 ...`). */
export function parseRuntimeSamples(text: string): RuntimeSampleEvent {
  const scan = scanSamples(text);
  return { kind: 'runtime', source: scan.source, dynoId: scan.dyno, samples: scan.samples };
}

/** An add-on metrics line (`source=DATABASE addon=postgresql-x-1 sample#db_size=123bytes ...`). */
export function parseAddonSamples(service: string, text: string): AddonSampleEvent {
  const scan = scanSamples(text);
  if (scan.dyno !== undefined) (scan.extra ??= {}).dyno = scan.dyno;
  return {
    kind: 'addon',
    type: 'sample',
    service,
    source: scan.source,
    addon: scan.addon,
    samples: scan.samples,
    extra: scan.extra,
  };
}
