// Reads a step's output the way the GitHub Actions runner does (actions/runner, ActionCommandManager
// and ActionCommand.TryParse/TryParseV2), to tell what a runner would execute:
// - a line is split on CR, LF or CRLF (the runner reads lines with .NET's ReadLine);
// - `::name props::data` is a command when it starts the line after leading whitespace;
// - the legacy `##[name props]data` is a command wherever it appears in the line;
// - after `::stop-commands::TOKEN` nothing runs — not even `add-mask` — until a line `::TOKEN::`.
// The parser errs towards executing: a resume line is accepted with surrounding whitespace too.

/** One command the runner would execute. */
export interface RunnerCommand {
  name: string;
  props: Record<string, string>;
  data: string;
  form: '::' | '##[';
  line: number;
}

/** What a runner makes of a stream. */
export interface RunnerReading {
  commands: RunnerCommand[];
  /** Values registered with `add-mask`, unescaped. */
  masks: string[];
  /** Lines that are not executed commands (what the log shows, before masking). */
  shown: string[];
  /** Group depth at the end, and whether it ever went negative (an `endgroup` without a group). */
  openGroups: number;
  unbalanced: boolean;
  /** Whether commands were still stopped at the end of the stream. */
  stoppedAtEnd: boolean;
}

function unescapeData(s: string): string {
  return s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

function unescapeProp(s: string): string {
  return unescapeData(s).replace(/%3A/gi, ':').replace(/%2C/gi, ',');
}

function parseProps(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) props[part.slice(0, eq).trim()] = unescapeProp(part.slice(eq + 1));
  }
  return props;
}

/** Parses one line as the `::` form, or undefined. */
function parseV2(line: string): Omit<RunnerCommand, 'line'> | undefined {
  const t = line.trimStart();
  if (!t.startsWith('::')) return undefined;
  const end = t.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = t.slice(2, end);
  const space = info.indexOf(' ');
  const name = (space < 0 ? info : info.slice(0, space)).trim();
  if (!name) return undefined;
  return {
    name: name.toLowerCase(),
    props: space < 0 ? {} : parseProps(info.slice(space + 1)),
    data: unescapeData(t.slice(end + 2)),
    form: '::',
  };
}

/** Parses one line as the legacy `##[` form, or undefined. */
function parseLegacy(line: string): Omit<RunnerCommand, 'line'> | undefined {
  const at = line.indexOf('##[');
  if (at < 0) return undefined;
  const rb = line.indexOf(']', at);
  if (rb < 0) return undefined;
  const info = line.slice(at + 3, rb);
  const space = info.indexOf(' ');
  const name = (space < 0 ? info : info.slice(0, space)).trim();
  if (!name) return undefined;
  return {
    name: name.toLowerCase(),
    props: space < 0 ? {} : parseProps(info.slice(space + 1)),
    data: unescapeData(line.slice(rb + 1)),
    form: '##[',
  };
}

/** Reads a stream as the runner would. */
export function readAsRunner(stream: string): RunnerReading {
  const r: RunnerReading = {
    commands: [],
    masks: [],
    shown: [],
    openGroups: 0,
    unbalanced: false,
    stoppedAtEnd: false,
  };
  let stopToken: string | undefined;
  const lines = stream.split(/\r\n|\r|\n/);
  lines.forEach((line, i) => {
    if (stopToken !== undefined) {
      if (line.trim().toLowerCase() === `::${stopToken}::`.toLowerCase()) stopToken = undefined;
      else r.shown.push(line);
      return;
    }
    const cmd = parseV2(line) ?? parseLegacy(line);
    if (!cmd) {
      r.shown.push(line);
      return;
    }
    r.commands.push({ ...cmd, line: i + 1 });
    if (cmd.name === 'stop-commands') stopToken = cmd.data;
    else if (cmd.name === 'add-mask') r.masks.push(cmd.data);
    else if (cmd.name === 'group') r.openGroups++;
    else if (cmd.name === 'endgroup') {
      r.openGroups--;
      if (r.openGroups < 0) r.unbalanced = true;
    }
  });
  r.stoppedAtEnd = stopToken !== undefined;
  return r;
}
