/**
 * The run environment of a command started from a terminal: the ports it gets, wired once. A
 * command that runs module steps gets the cancel guard (Ctrl-C, SIGTERM), the local evidence
 * folder (which promotion reads earlier applies from) and a runtime whose steps assume their roles
 * from the AWS default credential chain; one that touches the run lock gets a runtime without
 * sessions (or, to read state, with them). The AWS SDK and the engines load only when a runtime is asked for: other commands
 * start fast.
 */
import type { CommandInfo } from '../../commands/descriptor.js';
import type { CommandPorts, Reporter, Runtime } from '../../commands/ports.js';
import type { Redactor } from '../../core/redact.js';
import { localEvidence } from '../evidence/port.js';
import { localDeployments } from '../evidence/previous-applies.js';
import { fsReader } from '../fs-reader.js';
import { gitChanges, workingTreeChanges } from '../git.js';
import { runContext } from '../run-context.js';
import { guardRun } from '../run-guard.js';

/** A command's ports, and what to undo when it is done. */
export interface RunEnvironment {
  ports: CommandPorts;
  dispose(): void;
}

/** What a terminal run is set up with. */
export interface LocalOptions {
  command: CommandInfo;
  /** The repository root, absolute. */
  root: string;
  terraformBinary: string;
  lockTimeout: string;
  /** ambient: each step assumes its role from the default credential chain; none: no AWS credentials. */
  credentials: 'ambient' | 'none';
  redactor: Redactor;
  reporter: Reporter;
  /** Reads a plan file named on the command line. */
  planFile: CommandPorts['planFile'];
  /** Reads handoff files named on the command line. */
  handoffs: CommandPorts['handoffs'];
  /** A warning about the run's surroundings (an unreadable evidence record). */
  warn(message: string): void;
  /** The first signal that cancels a run. */
  cancelled(signal: NodeJS.Signals): void;
}

/** A runtime on this machine; with `sessions`, each step gets its own from the default credential chain. */
async function machineRuntime(o: LocalOptions, sessions: boolean): Promise<Runtime> {
  const mask = (v: string): void => o.redactor.add(v);
  const [{ localRuntime }, sts] = await Promise.all([
    import('./runtime.js'),
    sessions && o.credentials !== 'none' ? import('../aws/sts.js') : undefined,
  ]);
  return localRuntime({
    terraformBinary: o.terraformBinary,
    lockTimeout: o.lockTimeout,
    credentials: sts
      ? {
          broker: new sts.SessionBroker({ source: sts.defaultCredentialSource(process.env), mask }),
          mode: 'server',
          ctx: runContext(o.root),
          mask,
        }
      : undefined,
  });
}

/** The ports of a command run from a terminal. */
export function localEnvironment(o: LocalOptions): RunEnvironment {
  const ports: CommandPorts = {
    files: fsReader,
    context: (root) => runContext(root),
    redactor: o.redactor,
    reporter: o.reporter,
    planFile: o.planFile,
    handoffs: o.handoffs,
    // In CI only commits count; on a developer's machine, uncommitted edits too.
    changes: onCi(process.env) ? gitChanges : workingTreeChanges,
  };
  const uses = o.command.uses;
  if (uses === 'lock' || uses === 'state')
    return { ports: { ...ports, runtime: () => machineRuntime(o, uses === 'state') }, dispose: () => {} };
  if (uses !== 'steps') return { ports, dispose: () => {} };
  const guard = guardRun(o.cancelled);
  return {
    ports: {
      ...ports,
      signal: guard.signal,
      // plan and apply leave a record in the local evidence folder; promotion reads earlier applies there.
      evidence: localEvidence(o.root),
      deployments: localDeployments(o.root, o.warn),
      runtime: () => machineRuntime(o, true),
    },
    dispose: () => guard.dispose(),
  };
}

/** Whether this runs on a CI machine (GitHub Actions or any CI that sets CI), not a developer's. */
function onCi(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === 'true' || (env.CI !== undefined && env.CI !== '' && env.CI !== 'false');
}
