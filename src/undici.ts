/**
 * undici, loaded when something first sends with it (an otlphttp exporter made, an alert
 * posted): the embedded default without an OTLP endpoint, and any config without a webhook or an
 * otlphttp exporter, hold none of its code.
 */
import type * as Undici from 'undici';
import { lazy } from './lazy.ts';

export const undici = lazy<typeof Undici>('undici');

/** undici's `request`, loaded at the first call. */
export const request = ((...args: Parameters<typeof Undici.request>) => undici().request(...args)) as typeof Undici.request;

/**
 * undici's `Agent`, loaded at the first `new Agent(options)`, which returns undici's own (a
 * constructor that returns an object gives that object to `new`).
 */
export const Agent = function Agent(options?: Undici.Agent.Options) {
  return new (undici().Agent)(options);
} as unknown as typeof Undici.Agent;
