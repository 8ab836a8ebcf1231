/**
 * A string of its own. V8 makes a cut of 13 characters or more (slice, substring, a split part)
 * a view into the text it was cut from, a whole line up to the largest frame: anything kept for
 * long (a cache of names, a metric series) that holds such a cut keeps that whole line alive.
 * Prepending a character makes V8 copy the text into a new string; the slice is a view of that copy.
 */
export function ownString(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}
