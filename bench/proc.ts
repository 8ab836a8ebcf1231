/** What /proc says of a benchmark's child process: CPU seconds used and peak RSS. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** User + system CPU seconds of a live process. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(((Number(fields[11]) + Number(fields[12])) / 100).toFixed(2));
  } catch {
    return NaN;
  }
}

/** Peak resident set size (VmHWM) in MB. */
export function peakRssMb(pid: number): number {
  try {
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);
  } catch {
    return NaN;
  }
}

/** A process and its descendants (worker processes), from /proc/PID/task/TID/children. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${out[i]}/task`)) {
        for (const child of readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8').split(' ')) if (child.trim() !== '') out.push(Number(child));
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** CPU seconds of a process and its live descendants. */
export function treeCpuSeconds(pid: number): number {
  return Number(processTree(pid).reduce((n, p) => n + (cpuSeconds(p) || 0), 0).toFixed(2));
}

/** Resident set size (VmRSS) of a process and its live descendants, in MB. */
export function treeRssMb(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Gone meanwhile.
    }
  }
  return Math.round(kb / 1024);
}

/**
 * The Node flags a checkout's Procfile runs the sidecar with (`web: node <flags> bin/...`), so a
 * benchmark measures the process users run; none for a checkout whose Procfile has none.
 */
export function shippedNodeFlags(root: string): string[] {
  try {
    const web = /^web:\s*(.+)$/m.exec(readFileSync(join(root, 'Procfile'), 'utf8'))?.[1]?.trim().split(/\s+/) ?? [];
    const bin = web.indexOf('bin/heroku-otel-drain.js');
    return bin > 1 ? web.slice(1, bin) : [];
  } catch {
    return [];
  }
}
