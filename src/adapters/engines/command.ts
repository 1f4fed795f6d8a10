import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { childEnv, runProcess, type ProcessResult } from './process.js';
import type { ChangeCounts, Engine, EngineStepRequest, EngineStepResult } from './types.js';
import { mkdir, rm } from 'node:fs/promises';
import { didYouMean } from '../../core/suggest.js';
import {
  assertAbsolute,
  copyModule,
  copyModuleTree,
  errorText,
  freshWorkDir,
  stepFinisher,
  writePrivateJson,
} from './workdir.js';

/** File names the command engine uses in a step's work folder. */
export const COMMAND_FILES = {
  inputs: 'inputs.json',
  planOutputs: 'plan-outputs.json',
  outputs: 'outputs.json',
  changes: 'changes.json',
  applyChanges: 'apply-changes.json',
} as const;

type Outputs = EngineStepResult['outputs'];

/** A problem with what a script wrote or with the module folder: the step's failure reason. */
class StepFailed extends Error {
  constructor(
    message: string,
    readonly status: 'failed' | 'cancelled' = 'failed',
  ) {
    super(message);
  }
}

/** Fails unless `<moduleDir>/<name>` is an executable file. */
async function checkExecutable(moduleDir: string, name: string): Promise<string> {
  const path = join(moduleDir, name);
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile())
    throw new StepFailed(`command module ${moduleDir} has no '${name}' executable (expected ${path})`);
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new StepFailed(`${path} is not executable (chmod +x ${name}, and commit the mode)`);
  }
  return path;
}

/** Reads a JSON file a script may have written; undefined when it did not. */
async function readOptionalJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new StepFailed(`${what} is not valid JSON: ${errorText(e)}`);
  }
}

/** Validates a SITE_DEPLOY_CHANGES document: `{"add","change","destroy"}` as non-negative integers. */
export function parseChanges(doc: unknown): ChangeCounts {
  const d = doc as Record<string, unknown> | null;
  const n = (k: 'add' | 'change' | 'destroy'): number => {
    const v = d?.[k] ?? 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new StepFailed(
        `SITE_DEPLOY_CHANGES: "${k}" must be a non-negative integer, got ${JSON.stringify(v)}`,
      );
    }
    return v;
  };
  if (!d || typeof d !== 'object' || Array.isArray(d))
    throw new StepFailed('SITE_DEPLOY_CHANGES must hold a JSON object {"add","change","destroy"}');
  return { add: n('add'), change: n('change'), destroy: n('destroy') };
}

/**
 * Validates a SITE_DEPLOY_OUTPUTS document: a JSON object of output name to value (none
 * sensitive), each one of the manifest's `outputs:` when it declares them — an undeclared output
 * could never be read by a `#{module.output}` placeholder that validate accepted, and a typo in
 * either place would otherwise pass silently.
 */
export function parseCommandOutputs(
  doc: unknown,
  declared?: EngineStepRequest['declaredOutputs'],
  what = 'SITE_DEPLOY_OUTPUTS',
): Outputs {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new StepFailed('SITE_DEPLOY_OUTPUTS must hold a JSON object of outputs');
  const outputs: Outputs = {};
  for (const [k, value] of Object.entries(doc)) outputs[k] = { value, sensitive: false };
  const extra = declared ? Object.keys(outputs).filter((k) => !declared.names.includes(k)) : [];
  if (declared && extra.length > 0) {
    const list = declared.names.join(', ') || '(none)';
    const each = extra.map((k) => `"${k}"${didYouMean(k, declared.names)}`).join('; ');
    throw new StepFailed(
      `${what}: the script wrote ${extra.length === 1 ? 'an output' : 'outputs'} its manifest does not declare: ${each} — ` +
        `${declared.at}: outputs: [${list}]; add ${extra.length === 1 ? 'it' : 'them'} to outputs: or stop writing ${extra.length === 1 ? 'it' : 'them'}`,
    );
  }
  return outputs;
}

/** The last stderr lines, without blank edges. */
function tailText(r: ProcessResult): string {
  const t = [...r.stderrTail];
  while (t.length && !t[t.length - 1]!.trim()) t.pop();
  return t.length ? `\n${t.join('\n')}` : '';
}

const stepFile = (req: EngineStepRequest, name: keyof typeof COMMAND_FILES): string =>
  join(req.workDir, COMMAND_FILES[name]);

/** A sandboxed step's own HOME, beside its work folder (lent to it with the work folder). */
export const sandboxHome = (workDir: string): string => `${workDir}.home`;

/** Runs one of the module's scripts with its files in the environment; throws StepFailed when it does not succeed. */
async function runScript(
  req: EngineStepRequest,
  exe: string,
  name: string,
  outputsFile: string,
  changesFile: string,
  cwd: string,
): Promise<void> {
  req.log(`$ ${exe}\n`);
  const sb = req.sandbox;
  const home = sandboxHome(req.workDir);
  const r = await runProcess({
    command: sb ? join(cwd, name) : exe,
    args: [],
    cwd,
    env: childEnv({
      ...req.env,
      ...(sb ? { HOME: home } : {}),
      SITE_DEPLOY_INPUTS: stepFile(req, 'inputs'),
      SITE_DEPLOY_OUTPUTS: outputsFile,
      SITE_DEPLOY_CHANGES: changesFile,
    }),
    log: req.log,
    spoolDir: req.workDir,
    signal: req.signal,
    killGraceMs: req.killGraceMs,
    ...(sb ? { sandbox: { ...sb, lend: [req.workDir, home] } } : {}),
  });
  if (r.cancelled) {
    const how = r.exitSignal === 'SIGKILL' ? '; killed after the grace period' : '';
    throw new StepFailed(`cancelled during ${name}${how}${tailText(r)}`, 'cancelled');
  }
  if (r.spawnError) {
    const hint = r.spawnError.code === 'ENOENT' ? " (its '#!' interpreter was not found)" : '';
    throw new StepFailed(`${exe} could not start: ${r.spawnError.code ?? r.spawnError.message}${hint}`);
  }
  if (r.exitCode !== 0) {
    const exit = r.exitCode === null ? `signal ${r.exitSignal}` : `exit ${r.exitCode}`;
    throw new StepFailed(`${name} failed (${exit})${tailText(r)}`);
  }
}

/** What a step knows of its changes so far: reported even when a later part fails. */
interface CommandProgress {
  hasChanges: boolean;
  changes?: ChangeCounts;
}

/**
 * A fresh work folder with the inputs file the scripts read; where the scripts run from. A
 * sandboxed step runs a copy of the module (the catalog is not its to read or change), with a
 * HOME of its own.
 */
async function prepareWorkDir(req: EngineStepRequest): Promise<string> {
  try {
    let cwd = req.moduleDir;
    if (!req.sandbox) await freshWorkDir(req.workDir);
    else {
      if (req.root !== undefined) cwd = await copyModuleTree(req.moduleDir, req.workDir, req.root);
      else await copyModule(req.moduleDir, (cwd = req.workDir));
      const home = sandboxHome(req.workDir);
      await rm(home, { recursive: true, force: true });
      await mkdir(home, { mode: 0o700 });
    }
    await writePrivateJson(stepFile(req, 'inputs'), req.inputs);
    return cwd;
  } catch (e) {
    throw new StepFailed(`could not prepare the work folder ${req.workDir}: ${errorText(e)}`);
  }
}

/** `plan`: its changes (when it wrote them) and the outputs it knows at plan time. */
async function planScript(
  req: EngineStepRequest,
  exe: string,
  progress: CommandProgress,
  cwd: string,
): Promise<EngineStepResult['outputs']> {
  await runScript(req, exe, 'plan', stepFile(req, 'planOutputs'), stepFile(req, 'changes'), cwd);
  const changesDoc = await readOptionalJson(stepFile(req, 'changes'), 'SITE_DEPLOY_CHANGES');
  if (changesDoc !== undefined) {
    progress.changes = parseChanges(changesDoc);
    const c = progress.changes;
    progress.hasChanges = c.add + c.change + c.destroy > 0;
  }
  const planOutputsDoc = await readOptionalJson(stepFile(req, 'planOutputs'), 'SITE_DEPLOY_OUTPUTS (plan)');
  return planOutputsDoc === undefined
    ? {}
    : parseCommandOutputs(planOutputsDoc, req.declaredOutputs, 'SITE_DEPLOY_OUTPUTS (plan)');
}

/**
 * Runs `command` modules (SPEC §5): the module folder's `plan`, then in apply mode `apply`,
 * with the module folder as working directory and SITE_DEPLOY_INPUTS/OUTPUTS/CHANGES files in
 * the work folder. Apply is skipped (no-op) when `plan` reported zero changes.
 */
export class CommandEngine implements Engine {
  /** Runs one step; never throws for script failures. */
  async run(req: EngineStepRequest): Promise<EngineStepResult> {
    assertAbsolute('moduleDir', req.moduleDir);
    assertAbsolute('workDir', req.workDir);
    const done = stepFinisher(Date.now());
    if (req.signal?.aborted) return done({ status: 'cancelled', error: 'cancelled before it started' });
    const progress: CommandProgress = { hasChanges: true };
    try {
      const planExe = await checkExecutable(req.moduleDir, 'plan');
      const applyExe = req.mode === 'apply' ? await checkExecutable(req.moduleDir, 'apply') : undefined;
      const cwd = await prepareWorkDir(req);
      const planOutputs = await planScript(req, planExe, progress, cwd);
      const { hasChanges, changes } = progress;
      if (req.mode === 'plan' || !applyExe || !hasChanges)
        return done({
          status: hasChanges ? 'succeeded' : 'no-op',
          hasChanges,
          changes,
          outputs: planOutputs,
        });
      const refused = await req.beforeApply?.({ changes });
      if (refused !== undefined) return done({ status: 'failed', hasChanges, changes, error: refused });
      await runScript(req, applyExe, 'apply', stepFile(req, 'outputs'), stepFile(req, 'applyChanges'), cwd);
      const outputsDoc = await readOptionalJson(stepFile(req, 'outputs'), 'SITE_DEPLOY_OUTPUTS (apply)');
      const outputs =
        outputsDoc === undefined
          ? planOutputs
          : parseCommandOutputs(
              outputsDoc,
              req.declaredOutputs,
              'SITE_DEPLOY_OUTPUTS (apply; it was applied)',
            );
      return done({ status: 'succeeded', hasChanges, changes, outputs });
    } catch (e) {
      const { hasChanges, changes } = progress;
      if (e instanceof StepFailed) return done({ status: e.status, hasChanges, changes, error: e.message });
      return done({ status: 'failed', hasChanges, changes, error: `command step failed: ${errorText(e)}` });
    }
  }
}
