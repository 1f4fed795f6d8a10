import { randomBytes } from 'node:crypto';
import type { Redactor } from '../../core/redact.js';
import { couldBeCommand, escapeCommandData, inertStretch } from '../../core/workflow-commands.js';
import type { LogSink } from './group-log.js';

/** A fresh, unguessable stop-commands token. */
export function freshToken(): string {
  return randomBytes(16).toString('hex');
}

/** Options of {@link engineOutput}. */
export interface EngineOutputOptions {
  /** Where the text goes (stdout for the action, stderr for the CLI). */
  write: (text: string) => void;
  redactor: Redactor;
  /**
   * true when a GitHub Actions runner reads the stream: groups become `::group::` commands and
   * engine text is written with commands stopped. false: a terminal, groups as ▼/▲ lines.
   */
  runner: boolean;
  /** Injected for tests; default 128 random bits per stretch. */
  token?: () => string;
}

/**
 * The one writer of what engines and modules print (Terraform's plan and apply text, provisioner
 * output, scripts' stdout and stderr). Everything is redacted first; on a runner each write is a
 * stretch between `::stop-commands::<fresh token>` and its resume line, written whole, so nothing a
 * module prints can run as a workflow command — and the tool's own commands (`::add-mask::`,
 * groups) always land outside a stretch, where the runner reads them.
 */
export function engineOutput(o: EngineOutputOptions): LogSink {
  const token = o.token ?? freshToken;
  if (!o.runner) {
    return {
      startGroup: (title) => o.write(`▼ ${o.redactor.text(title)}\n`),
      endGroup: () => o.write('▲\n'),
      write: (text) => o.write(o.redactor.text(text)),
    };
  }
  return {
    startGroup: (title) => o.write(`::group::${escapeCommandData(o.redactor.text(title))}\n`),
    endGroup: () => o.write('::endgroup::\n'),
    write: (text) => {
      if (text) o.write(inertStretch(o.redactor.text(text), token()));
    },
  };
}

/**
 * Tool text that may quote engine output (a failure reason is the tail of Terraform's stderr):
 * redacted, and on a runner wrapped so it cannot run as a command when it looks like one.
 */
export function safeText(text: string, redactor: Redactor, runner: boolean, token = freshToken): string {
  const t = redactor.text(text);
  return runner && couldBeCommand(t) ? inertStretch(t, token()) : t;
}
