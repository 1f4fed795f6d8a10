import * as core from '@actions/core';
import { STRUCTURAL_FIELDS, type Redactor } from '../../core/redact.js';
import { engineOutput, safeText } from '../run/engine-output.js';
import type { LogSink } from '../run/group-log.js';

/**
 * Everything the action writes — log lines, annotations, step outputs, the job summary — goes
 * through here: redacted by the run's one Redactor, and anything that may quote engine output
 * kept from running as a workflow command.
 */
export interface ActionIo {
  redactor: Redactor;
  /** Engine and module output, in log groups; the only writer of it. */
  engine: LogSink;
  info(text: string): void;
  warning(message: string, props?: core.AnnotationProperties): void;
  error(message: string, props?: core.AnnotationProperties): void;
  /** A string as is, anything else as JSON; redacted before it is serialized. */
  setOutput(name: string, value: unknown): void;
  summary(markdown: string): Promise<void>;
  setFailed(message: string): void;
}

/** Writes to the runner through `@actions/core`; every new secret is registered with `::add-mask::` first. */
export function actionIo(redactor: Redactor): ActionIo {
  redactor.onSecret((s) => core.setSecret(s));
  const props = (p: core.AnnotationProperties | undefined): core.AnnotationProperties | undefined =>
    p && { ...p, ...(p.title ? { title: redactor.text(p.title) } : {}) };
  return {
    redactor,
    engine: engineOutput({ write: (t) => process.stdout.write(t), redactor, runner: true }),
    info: (text) => process.stdout.write(`${safeText(text, redactor, true).replace(/\n$/, '')}\n`),
    // core escapes annotation data (%, CR, LF), so a message can never start a second command.
    warning: (m, p) => core.warning(redactor.text(m), props(p)),
    error: (m, p) => core.error(redactor.text(m), props(p)),
    setOutput: (name, value) =>
      core.setOutput(
        name,
        typeof value === 'string'
          ? (redactor.document({ [name]: value }, STRUCTURAL_FIELDS)[name] ?? '')
          : JSON.stringify(redactor.document(value, STRUCTURAL_FIELDS)),
      ),
    summary: async (markdown) => {
      if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(redactor.text(markdown), true).write();
    },
    setFailed: (m) => core.setFailed(redactor.text(m)),
  };
}
