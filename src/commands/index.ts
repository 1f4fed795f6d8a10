/** Every command, in the order the help lists them. The CLI and the action loop over this list. */
import type { Command } from './descriptor.js';
import { applyCommand } from './apply.js';
import { forceUnlockCommand } from './force-unlock.js';
import { graphCommand } from './graph.js';
import { matrixCommand } from './matrix.js';
import { outputCommand } from './output.js';
import { planCommand } from './plan.js';
import { reportCommand } from './report.js';
import { driftCommand, verifyCommand } from './planned.js';
import { summarizeCommand } from './summarize.js';
import { trustPolicyCommand } from './trust-policy.js';
import { validateCommand } from './validate.js';

export const COMMAND_LIST: readonly Command[] = [
  validateCommand,
  graphCommand,
  planCommand,
  applyCommand,
  verifyCommand,
  driftCommand,
  matrixCommand,
  summarizeCommand,
  reportCommand,
  trustPolicyCommand,
  outputCommand,
  forceUnlockCommand,
];

/** The command of this name, if there is one. */
export function findCommand(name: string): Command | undefined {
  return COMMAND_LIST.find((c) => c.name === name);
}
