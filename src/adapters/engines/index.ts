import { CommandEngine } from './command.js';
import { TerraformEngine } from './terraform.js';
import type { Engine } from './types.js';

export type {
  Backend,
  ChangeCounts,
  Engine,
  EngineStepRequest,
  EngineStepResult,
  PlanReady,
  Warmed,
} from './types.js';
export { CommandEngine } from './command.js';
export { TerraformEngine } from './terraform.js';

/** The engine for a catalog manifest's `engine:` value. */
export function engineFor(kind: 'terraform' | 'command'): Engine {
  return kind === 'command' ? new CommandEngine() : new TerraformEngine();
}
