/**
 * Text that the GitHub Actions runner cannot read as a workflow command. The runner reads a line as
 * a command when, after leading whitespace, it starts with `::name` — or, in the legacy form, when
 * `##[name` appears anywhere in it — unless commands are stopped: between `::stop-commands::TOKEN`
 * and a line `::TOKEN::` it executes nothing at all (`add-mask` included).
 */

/** Whether any line of the text could be executed by the runner as a workflow command. */
export function couldBeCommand(text: string): boolean {
  return text.includes('##[') || /(^|[\r\n])[^\S\r\n]*::/.test(text);
}

/**
 * The text between `::stop-commands::TOKEN` and `::TOKEN::`, written as one piece: nothing in it
 * runs, whatever it prints — its own `::stop-commands::` or `::endgroup::` included — because only
 * the exact resume line ends the stretch and the token is fresh and never shown to the module.
 */
export function inertStretch(text: string, token: string): string {
  if (!/^[0-9a-f]{32,}$/.test(token)) throw new Error('stop-commands token must be 32+ random hex digits');
  const body = text.endsWith('\n') ? text : `${text}\n`;
  return `::stop-commands::${token}\n${body}::${token}::\n`;
}

/**
 * JSON text in which the runner finds no command: `##[` is written `##\u005b`, which parses back to
 * the same value. (A JSON document on one line can never start a line with `::`.)
 */
export function runnerSafeJson(json: string): string {
  return json.includes('##[') ? json.replaceAll('##[', '##\\u005b') : json;
}

/** Escapes a workflow command's data as the runner expects (`%`, CR, LF). */
export function escapeCommandData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
