import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A real plan made by the `terraform` binary: what `show -json` and `show` print for the same plan file. */
export interface TerraformPlan {
  json: unknown;
  jsonText: string;
  /** `terraform show -no-color PLANFILE`: the human rendering with its `Plan:` line. */
  humanPlanText: string;
  /** `terraform plan -detailed-exitcode`: 0 no changes, 2 changes. */
  exitCode: number;
}

/** Counts parsed from Terraform's human `Plan:` line (`No changes.` and outputs-only plans give zeros). */
export interface HumanPlanCounts {
  import: number;
  add: number;
  change: number;
  destroy: number;
  noChanges: boolean;
}

const ENV = {
  ...process.env,
  TF_CLI_CONFIG_FILE: '/dev/null',
  TF_IN_AUTOMATION: '1',
  CHECKPOINT_DISABLE: '1',
};
let checked = false;

function terraform(dir: string, args: string[], okCodes = [0]): { stdout: string; status: number } {
  const r = spawnSync('terraform', args, {
    cwd: dir,
    env: ENV,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw new Error(`terraform could not run (is it on PATH?): ${r.error.message}`);
  const status = r.status ?? -1;
  if (!okCodes.includes(status)) {
    throw new Error(`terraform ${args.join(' ')} exited ${status} in ${dir}:\n${r.stdout}\n${r.stderr}`);
  }
  return { stdout: r.stdout, status };
}

function checkTerraform(): void {
  if (checked) return;
  const dir = tmpdir();
  const v = JSON.parse(terraform(dir, ['version', '-json']).stdout) as { terraform_version?: string };
  if (!v.terraform_version?.startsWith('1.')) {
    throw new Error(`these tests need Terraform 1.x on PATH, found ${JSON.stringify(v.terraform_version)}`);
  }
  checked = true;
}

/** A Terraform working folder in a temp dir, with local state, driven offline (built-in provider only). */
export class TerraformWorkspace {
  readonly dir: string;
  private initialized = false;
  private written: string[] = [];

  constructor() {
    checkTerraform();
    this.dir = mkdtempSync(join(tmpdir(), 'sd-tfplan-'));
  }

  /** Replaces the files of the previous write (state stays): `{ 'main.tf': '…', 'mod/main.tf': '…' }`. */
  write(files: Record<string, string>): this {
    for (const f of this.written) rmSync(join(this.dir, f), { force: true });
    this.written = Object.keys(files);
    for (const [name, text] of Object.entries(files)) {
      const path = join(this.dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
    // Module sources may have changed: init again (0.1 s, offline).
    this.initialized = false;
    return this;
  }

  private init(): void {
    if (this.initialized) return;
    terraform(this.dir, ['init', '-input=false', '-no-color']);
    this.initialized = true;
  }

  private varArgs(vars: Record<string, string>): string[] {
    return Object.entries(vars).flatMap(([k, v]) => ['-var', `${k}=${v}`]);
  }

  /** `terraform apply -auto-approve` of the current files. */
  apply(vars: Record<string, string> = {}): this {
    this.init();
    terraform(this.dir, ['apply', '-input=false', '-no-color', '-auto-approve', ...this.varArgs(vars)]);
    return this;
  }

  /** `terraform plan -out`, then `show -json` and `show` of that same plan file. */
  plan(options: { vars?: Record<string, string>; destroy?: boolean } = {}): TerraformPlan {
    this.init();
    const args = ['plan', '-input=false', '-no-color', '-detailed-exitcode', '-out=tfplan'];
    if (options.destroy) args.push('-destroy');
    const { status } = terraform(this.dir, [...args, ...this.varArgs(options.vars ?? {})], [0, 2]);
    const jsonText = terraform(this.dir, ['show', '-json', 'tfplan']).stdout;
    const humanPlanText = terraform(this.dir, ['show', '-no-color', 'tfplan']).stdout;
    return { json: JSON.parse(jsonText) as unknown, jsonText, humanPlanText, exitCode: status };
  }

  /** `terraform show -json` of the current state (not a plan). */
  showStateJson(): string {
    return terraform(this.dir, ['show', '-json']).stdout;
  }

  /** The raw `terraform.tfstate` text. */
  rawState(): string {
    return readFileSync(join(this.dir, 'terraform.tfstate'), 'utf8');
  }

  /** Deletes the folder. */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Reads the counts from Terraform's human plan text; throws if it has neither a `Plan:` line, `No changes.` nor output changes. */
export function parseHumanPlan(text: string): HumanPlanCounts {
  const m = /^Plan: (?:(\d+) to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy\./m.exec(text);
  if (m) {
    return {
      import: Number(m[1] ?? 0),
      add: Number(m[2]),
      change: Number(m[3]),
      destroy: Number(m[4]),
      noChanges: false,
    };
  }
  const noChanges = /^No changes\./m.test(text);
  if (!noChanges && !/^Changes to Outputs:/m.test(text)) {
    throw new Error(`no "Plan:" line, "No changes." nor "Changes to Outputs:" in:\n${text}`);
  }
  return { import: 0, add: 0, change: 0, destroy: 0, noChanges };
}
