/**
 * Dyno names as Cedar writes them: `<process type>.<number>` (`web.1`, `worker.3`, `run.2660`,
 * `scheduler.1234`, `release.42`), in a dyno line's PROCID, a runtime sample's `source=` and the
 * router's `dyno=`. Platform components (`router`, `api`, `logplex`, `slug-compiler`) and add-ons
 * (`heroku-redis`) write other PROCIDs: they are no dynos.
 */

/**
 * The process type of a dyno name (`web` of `web.1`), or undefined when `name` is not shaped like
 * one: letters, digits, `_` or `-`, a dot, then digits only. A scan, as it runs on every line.
 */
export function dynoType(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return undefined;
  for (let i = dot + 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  for (let i = 0; i < dot; i++) {
    const c = name.charCodeAt(i);
    const word = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;
    if (!word) return undefined;
  }
  return name.slice(0, dot);
}
