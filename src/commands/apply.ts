import { runCommand } from './run-command.js';

export const applyCommand = runCommand('apply', {
  summary: 'plan and apply every module in order, each right after its upstreams; halts on failure',
  usage: 'site-deploy apply --site S --env E [--max-parallel N] [--break-glass REASON] [--json]',
  example: 'site-deploy apply --root examples --site client-portal --env dev --credentials none',
  flags: ['break-glass'],
  inputs: ['break-glass', 'binding', 'max-plan-age'],
});
