import * as core from '@actions/core';
import { relative, resolve } from 'node:path';
import { SiteDeployError, type Problem } from '../../core/errors.js';
import { validateProject } from '../../core/project.js';
import { fsReader } from '../fs-reader.js';
import { runContext } from '../run-context.js';
import { readSettings, type ActionSettings } from './inputs.js';

/** Emits each problem as an annotation on its file and line (paths relative to the workspace). */
export function annotate(problems: Problem[], root: string, workspace: string): void {
  for (const p of problems) {
    const props: core.AnnotationProperties = { title: 'site-deploy' };
    if (p.file && p.line > 0) {
      props.file = relative(workspace, resolve(root, p.file));
      props.startLine = p.line;
      props.startColumn = p.column;
    }
    if (p.severity === 'error') core.error(p.message, props);
    else core.warning(p.message, props);
  }
}

async function validate(s: ActionSettings): Promise<void> {
  const v = validateProject(fsReader(s.root), { configRoot: s.configRoot, catalog: s.catalog }, runContext(s.root), {
    site: s.site,
    env: s.environment,
  });
  annotate(v.problems, s.root, process.env.GITHUB_WORKSPACE || s.root);
  const errors = v.problems.filter((p) => p.severity === 'error');
  core.setOutput('status', v.ok ? 'succeeded' : 'failed');
  core.setOutput('summary', JSON.stringify({ ok: v.ok, errors: errors.length, warnings: v.problems.length - errors.length }));
  if (!v.ok) {
    core.setFailed(`${errors.length} configuration error${errors.length === 1 ? '' : 's'}: see the annotations`);
  } else {
    core.info(`configuration is valid: ${v.graphs.length} site×environment graphs`);
  }
}

/** The action's entry: reads inputs, runs the command, fails the step with a readable message. */
export async function run(): Promise<void> {
  try {
    const settings = readSettings();
    switch (settings.command) {
      case 'validate':
        await validate(settings);
        return;
      default:
        throw new SiteDeployError('bad-input', `command "${settings.command}" is not available in this version yet`);
    }
  } catch (e) {
    if (e instanceof SiteDeployError && e.problems.length > 0) annotate(e.problems, process.cwd(), process.env.GITHUB_WORKSPACE || process.cwd());
    core.setOutput('status', 'failed');
    core.setFailed(e instanceof Error ? e.message : String(e));
  }
}
