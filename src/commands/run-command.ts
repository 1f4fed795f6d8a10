/**
 * plan and apply as commands: their settings from the front door's options, and the renderings
 * of a run — the terminal table, the JSON document, and what a workflow step publishes (job
 * summary, PR comment, check run, outputs).
 */
import { checkConclusion } from '../core/status.js';
import { renderReport } from '../core/report/markdown.js';
import { applyCheckLines, toRunReport } from '../core/report/run-report.js';
import { publicOutputs, runDocument, type RunMode, type RunResult } from '../core/run/runner.js';
import { toHandoff } from '../core/report/handoff.js';
import { renderRunTable } from '../core/report/table.js';
import { defineCommand, type ActionReport, type CheckNote, type Command } from './descriptor.js';
import { STEP_FLAGS, STEP_INPUTS, type Flag, type Input, type Options } from './options.js';
import { runtimeOf, type CommandPorts } from './ports.js';
import { breakGlassNotice, run, type RunOutcome, type RunSettings } from './run.js';

/** What differs between plan and apply: their help, and apply's extra options. */
interface RunCommandInfo {
  summary: string;
  usage: string;
  example: string;
  flags?: readonly Flag[];
  inputs?: readonly Input[];
}

/** The settings of a run from the front door's options. */
function runSettings(mode: RunMode, o: Options): RunSettings {
  return {
    root: o.root,
    layout: o.layout,
    site: o.site ?? '',
    env: o.env ?? '',
    mode,
    maxParallel: o.maxParallel,
    lockTimeoutMs: o.lockTimeoutMs,
    ephemeralRunner: o.ephemeralRunner,
    breakGlass: o.breakGlass,
    ...(o.binding ? { binding: o.binding } : {}),
    ...(o.flags['require-isolation'] === 'true' ? { requireIsolation: true } : {}),
    ...(o.publish === 'handoff' ? { publish: 'handoff' as const } : {}),
  };
}

const failedOrCancelled = (r: RunOutcome): boolean =>
  r.result.status === 'failed' || r.result.status === 'cancelled';

/** The run's terminal text: the table, break-glass, the evidence record, and why modules failed. */
function runText(r: RunOutcome, path: (p: string) => string): string {
  const lines = [`\n${renderRunTable(r.result)}`];
  if (r.breakGlass) lines.push(`${breakGlassNotice(r.breakGlass)}\n`);
  if (r.evidence) lines.push(`evidence: ${path(r.evidence.path)} (${r.evidence.digest})\n`);
  for (const b of r.brokenLinks ?? []) lines.push(`${brokenLinkLine(b)}\n`);
  for (const m of r.result.modules.filter((x) => x.status === 'failed' && x.reason))
    lines.push(`\n${m.name} failed:\n${m.reason}\n`);
  return lines.join('');
}

/** A broken link of the evidence chain, as the report names it. */
function brokenLinkLine(b: { name: string; reason: string }): string {
  return `evidence chain: ${b.name} is not a valid record (${b.reason}); this record chains to the last valid one and names it`;
}

/** The run's `--json` document: SPEC §9's fields, plus why its record could not be kept and the chain's broken links. */
function runJson(r: RunOutcome): unknown {
  return {
    ...runDocument(r.graph, r.result, r.evidence?.path),
    ...(r.evidenceProblem ? { evidence_error: r.evidenceProblem } : {}),
    ...(r.brokenLinks?.length ? { broken_links: r.brokenLinks } : {}),
  };
}

/** Check-run notes for the modules that failed: their config problems, or their entry in site.yaml. */
function failureNotes(r: RunOutcome, title: string): CheckNote[] {
  const { graph, workspace } = r;
  return r.result.modules
    .filter((m) => m.status === 'failed')
    .flatMap((m): CheckNote[] => {
      if (m.problems.length > 0) return m.problems;
      const node = graph.nodes.find((n) => n.name === m.name);
      const pos = (node && workspace.files.get(node.module.origin.file)?.locate(node.module.origin.path)) ?? {
        file: graph.site.file,
        line: 1,
        column: 1,
      };
      const message = `${m.name} failed: ${m.reason ?? ''}`.slice(0, 60000);
      return [{ ...pos, message, severity: 'error', title }];
    });
}

/** The step's failure message: the modules that failed or were cancelled, or the evidence that could not be kept. */
function runFailure(r: RunOutcome, s: RunSettings): string | undefined {
  if (failedOrCancelled(r)) {
    const bad = r.result.modules
      .filter((m) => m.status === 'failed' || m.status === 'cancelled')
      .map((m) => m.name);
    return `${s.mode} ${r.result.status}: ${bad.join(', ') || 'see the log'}`;
  }
  return r.evidenceProblem;
}

/** What a workflow step publishes for a run. */
function runAction(r: RunOutcome, s: RunSettings, ports: CommandPorts): ActionReport {
  const { graph, result, evidence, breakGlass } = r;
  const title = `site-deploy / ${s.site} / ${s.env}`;
  const url = ports.runUrl;
  const report = toRunReport(graph, result, ports.context(s.root), {
    runUrl: url,
    // The record is uploaded as an artifact of the run.
    evidenceUrl: evidence && url ? `${url}#artifacts` : undefined,
    binding: r.review,
    breakGlass: breakGlass
      ? {
          actor: breakGlass.actor,
          reason: breakGlass.reason,
          overrides: breakGlass.overrides.map((o) => o.check),
        }
      : undefined,
    checks: applyCheckLines(r.promotion, r.binding),
    isolation: r.isolation?.isolation ?? 'none',
  });
  const failure = runFailure(r, s);
  const notes = [...r.warnings, ...failureNotes(r, title)];
  if (s.publish === 'handoff')
    return {
      annotations: r.warnings,
      handoff: toHandoff(report, reviewedPlans(result), {
        ...(s.binding?.reviewCommit ? { reviewCommit: s.binding.reviewCommit } : {}),
        createdAt: r.review?.created_at ?? new Date().toISOString(),
        ...(evidence ? { evidence } : {}),
        problems: notes,
        redact: (v) => ports.redactor.value(v),
      }),
      summary: `### site-deploy ${s.mode}: ${s.site} / ${s.env} — ${result.status}\n\nThe report job publishes this run's summary, pull-request comment and check run from its handoff.\n`,
      outputs: runOutputs(r),
      ...(failure ? { failure } : {}),
    };
  const markdown = renderReport(report, s.binding?.key ? { bindingKey: s.binding.key } : {});
  return {
    annotations: r.warnings,
    warnings: [
      ...(breakGlass ? [{ message: breakGlassNotice(breakGlass), title: `${title}: break-glass` }] : []),
      ...(r.brokenLinks ?? []).map((b) => ({ message: brokenLinkLine(b), title: `${title}: evidence` })),
      ...(r.binding?.mode === 'off'
        ? [
            {
              message:
                'binding: off — the plans applied were not compared with a reviewed plan (recorded in the evidence)',
              title: `${title}: binding off`,
            },
          ]
        : []),
    ],
    summary: markdown,
    comment: { marker: report.marker, markdown },
    check: {
      conclusion: checkConclusion(result.status),
      title: `${s.mode} ${result.status}: ${result.modules.length} modules`,
      markdown,
      notes,
    },
    outputs: runOutputs(r),
    ...(failure ? { failure } : {}),
  };
}

/** The step outputs of a run. */
function runOutputs(r: RunOutcome): [string, unknown][] {
  const doc = runDocument(r.graph, r.result, r.evidence?.path);
  return [
    ...(r.evidence ? [['evidence-path', r.evidence.path] satisfies [string, unknown]] : []),
    ['status', r.result.status],
    ['summary', { ...doc, outputs: undefined }],
    ['outputs', publicOutputs(r.graph, r.result)],
  ];
}

/** Each bound module's plan as its review was made from it (plan runs). */
function reviewedPlans(result: RunResult): Map<string, unknown> {
  return new Map(
    result.modules.flatMap((m) => (m.reviewedPlan !== undefined ? [[m.name, m.reviewedPlan]] : [])),
  );
}

/** plan or apply as a command. */
export function runCommand(mode: RunMode, info: RunCommandInfo): Command {
  return defineCommand({
    name: mode,
    summary: info.summary,
    usage: info.usage,
    example: info.example,
    flags: [...STEP_FLAGS, 'require-isolation', ...(info.flags ?? [])],
    inputs: [...STEP_INPUTS, 'require-isolation', 'binding-key', 'publish', ...(info.inputs ?? [])],
    needs: ['site', 'env'],
    uses: 'steps',
    settings: (o) => runSettings(mode, o),
    run: async (s, ports) => run(s, ports, await runtimeOf(ports)),
    json: runJson,
    text: (r, _s, view) => runText(r, (p) => view.path(p)),
    notes: (r) => ({ problems: r.warnings, ...(r.evidenceProblem ? { error: r.evidenceProblem } : {}) }),
    exitCode: (r) => (r.evidenceProblem || failedOrCancelled(r) ? 1 : 0),
    action: runAction,
  });
}
