import { didYouMean } from '../suggest.js';

/** Octopus-style filters, applied to the placeholder's text form. */
const FILTERS: Record<string, (s: string) => string> = {
  ToLower: (s) => s.toLowerCase(),
  ToUpper: (s) => s.toUpperCase(),
  Trim: (s) => s.trim(),
  JsonEscape: (s) => JSON.stringify(s).slice(1, -1),
  UriEscape: (s) => encodeURIComponent(s.toWellFormed()),
  Base64: (s) => Buffer.from(s.toWellFormed(), 'utf8').toString('base64'),
  HtmlEscape: (s) =>
    s.replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
    ),
};

const BY_LOWER = new Map(Object.keys(FILTERS).map((k) => [k.toLowerCase(), k]));

/** The names of every filter. */
export const FILTER_NAMES = Object.keys(FILTERS);

/** The filter function for a name (case-insensitive), or an error message with a suggestion. */
export function lookupFilter(name: string): ((s: string) => string) | string {
  const canonical = BY_LOWER.get(name.toLowerCase());
  const fn = canonical ? FILTERS[canonical] : undefined;
  if (fn) return fn;
  return `unknown filter "${name}"${didYouMean(name, FILTER_NAMES) || `; filters: ${FILTER_NAMES.join(', ')}`}`;
}
