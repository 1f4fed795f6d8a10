/**
 * A command, described once for both front doors: its name and summary, the CLI flags and action
 * inputs it takes (what `--help` and action.yml show), how those become its typed settings, what it
 * does with the ports, and how its result is rendered — text, JSON and markdown for a terminal,
 * step outputs and reports for a workflow step. The CLI and the action loop over the list in
 * index.ts; adding a command is its file and one line there.
 */
import type { Problem } from '../core/errors.js';
import type { CheckConclusion } from '../core/status.js';
import type { Options } from './options.js';
import type { Flag, Input } from './options.js';
import type { CommandPorts } from './ports.js';

/** What a command leaves on stderr of a terminal besides its result. */
export interface Notes {
  /** Config problems (warnings), shown as `file:line:col` relative to the current directory. */
  problems?: Problem[];
  /** One `warning: …` line each. */
  warnings?: string[];
  /** One `error: …` line; the exit code says what it means. */
  error?: string;
}

/** How a terminal shows paths: relative to where the user stands. */
export interface View {
  /** A path (absolute or relative to the root) as the user reads it. */
  path(p: string): string;
}

/** A problem annotated on the check run, with its title (default `site-deploy`). */
export type CheckNote = Problem & { title?: string };

/** What a workflow step publishes for a command: annotations, log, job summary, PR comment, check run, outputs. */
export interface ActionReport {
  /**
   * The site × environment whose comment and check run these are, when not the step's own (a
   * `report` step publishes many); `commit`: the head commit the check run belongs on.
   */
  target?: { site: string; environment: string; commit?: string };
  /** plan/apply with `publish: handoff`: the handoff document to write for a `report` step. */
  handoff?: unknown;
  /** Config problems, annotated on their file and line. */
  annotations?: Problem[];
  /** Warnings with a title, annotated on no file. */
  warnings?: { message: string; title: string }[];
  /** Log text. */
  info?: string;
  /** The job summary. */
  summary?: string;
  /** The sticky pull-request comment. */
  comment?: { marker: string; markdown: string };
  /** How the check run completes. */
  check?: {
    conclusion: CheckConclusion;
    title: string;
    markdown: string;
    notes: CheckNote[];
  };
  /** Step outputs, set in this order. */
  outputs: [string, unknown][];
  /** Set: the step fails with this message. */
  failure?: string;
}

/** The settings-independent part of a command: what the front doors show and check before it runs. */
export interface CommandInfo {
  name: string;
  /** One line, for the global help and the command's own. */
  summary: string;
  /** Its CLI usage line. */
  usage: string;
  /** One example command line. */
  example: string;
  /** Its CLI flags, besides the ones every command takes. */
  flags: readonly Flag[];
  /** Flags it cannot run without (CLI), inputs it cannot run without (action). */
  needs?: readonly ('site' | 'env')[];
  /** Its positional arguments, exactly. */
  positional?: readonly string[];
  /** Its action inputs besides the ones every command reads; absent: not an action command. */
  inputs?: readonly Input[];
  /**
   * What it needs from the run environment besides config: `steps` runs module steps (a runtime
   * with AWS sessions, evidence, deployments, binding, a cancel signal, the check run and PR
   * comment in Actions); `state` reads modules' state (a runtime with sessions); `lock` touches
   * only the run lock (a runtime without sessions).
   */
  uses?: 'steps' | 'state' | 'lock';
  /** Listed in the help, but not in this version yet: it fails as bad input. */
  unavailable?: boolean;
}

/** One command with its typed settings `S` and result `R`. */
export interface CommandDescriptor<S, R> extends CommandInfo {
  /** Its settings from the front door's options (already checked: values, needs, positionals). */
  settings(o: Options): S;
  run(s: S, ports: CommandPorts): Promise<R> | R;
  /** Its `--json` document. */
  json(r: R, s: S): unknown;
  /** Its terminal text (stdout). */
  text(r: R, s: S, view: View): string;
  /** Its markdown (`--markdown`), where it has one. */
  markdown?(r: R, s: S): string;
  /** What goes to stderr whatever the format. */
  notes?(r: R, s: S, format: 'text' | 'json' | 'markdown'): Notes;
  /** Its exit code (default 0). */
  exitCode?(r: R, s: S): number;
  /** What a workflow step publishes (action commands); `report` publishes one per site × environment. */
  action?(r: R, s: S, ports: CommandPorts): ActionReport | ActionReport[];
}

/** A command's rendered result, for a front door that knows nothing of its types. */
export interface Rendered {
  json(): unknown;
  text(view: View): string;
  markdown?(): string;
  notes(format: 'text' | 'json' | 'markdown'): Notes;
  exitCode: number;
  action?(): ActionReport | ActionReport[];
}

/** A command with its types erased: what the front doors loop over. */
export interface Command extends CommandInfo {
  execute(o: Options, ports: CommandPorts): Promise<Rendered>;
}

/** Closes a descriptor over its types. */
export function defineCommand<S, R>(d: CommandDescriptor<S, R>): Command {
  const { settings, run, json, text, markdown, notes, exitCode, action, ...info } = d;
  return {
    ...info,
    async execute(o, ports) {
      const s = settings(o);
      const r = await run(s, ports);
      return {
        json: () => json(r, s),
        text: (view) => text(r, s, view),
        ...(markdown ? { markdown: () => markdown(r, s) } : {}),
        notes: (format) => notes?.(r, s, format) ?? {},
        exitCode: exitCode?.(r, s) ?? 0,
        ...(action ? { action: () => action(r, s, ports) } : {}),
      };
    },
  };
}
