/** A place in a config file, 1-based line and column; file is relative to the repository root. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

/** One problem found in the user's input. */
export interface Problem extends SourcePos {
  message: string;
  severity: 'error' | 'warning';
}

/**
 * Stable error codes; `bad-input` maps to exit code 2, the rest to 1. `locked`: another run holds
 * the site × environment (or its lock could not be taken); `refused`: a binding, promotion or
 * freeze check stopped the run before it changed anything; `evidence`: the run's record could not
 * be kept (never overwritten, so a name already taken fails the run closed).
 */
export type ErrorCode = 'bad-input' | 'step-failed' | 'locked' | 'refused' | 'evidence' | 'internal';

/** The one error type the tool throws on purpose: a stable code, the problems, and whose fault it is. */
export class SiteDeployError extends Error {
  readonly code: ErrorCode;
  readonly problems: Problem[];
  /** The evidence record of the run this error ended (a refusal's record), once written. */
  evidence?: { path: string; digest: string };
  /** What refused the run (`refused`/`locked`), as its evidence record names it. */
  refusal?: { kind: string; message: string };

  constructor(code: ErrorCode, message: string, options: { problems?: Problem[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SiteDeployError';
    this.code = code;
    this.problems = options.problems ?? [];
  }
}

/** Bad input (config, arguments, files): carries every problem found, not just the first. */
export class InputError extends SiteDeployError {
  constructor(problems: Problem[], message?: string) {
    const errors = problems.filter((p) => p.severity === 'error');
    super(
      'bad-input',
      message ?? `${errors.length} problem${errors.length === 1 ? '' : 's'} in the configuration`,
      {
        problems,
      },
    );
    this.name = 'InputError';
  }
}

/** Collects problems while a stage runs, so users fix everything in one pass. */
export class Problems {
  readonly list: Problem[] = [];

  /** Records an error at a position. */
  error(pos: SourcePos, message: string): void {
    this.list.push({ ...pos, message, severity: 'error' });
  }

  /** Records a warning at a position. */
  warn(pos: SourcePos, message: string): void {
    this.list.push({ ...pos, message, severity: 'warning' });
  }

  /** Whether any error (not warning) was recorded. */
  get hasErrors(): boolean {
    return this.list.some((p) => p.severity === 'error');
  }

  /** Throws an InputError when any error was recorded. */
  throwIfErrors(): void {
    if (this.hasErrors) throw new InputError(this.list);
  }
}

/** Formats a problem the way compilers do: `file:line:column: error: message`. */
export function formatProblem(p: Problem, file = p.file): string {
  return `${file}:${p.line}:${p.column}: ${p.severity}: ${p.message}`;
}

/** Sorts problems by file, line, column, for stable output. */
export function sortProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return [...problems]
    .sort(
      (a, b) =>
        a.file.localeCompare(b.file) ||
        a.line - b.line ||
        a.column - b.column ||
        a.message.localeCompare(b.message),
    )
    .filter((p) => {
      const k = `${p.file}:${p.line}:${p.column}:${p.severity}:${p.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}
