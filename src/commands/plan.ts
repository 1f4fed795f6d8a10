import { runCommand } from './run-command.js';

export const planCommand = runCommand('plan', {
  summary: 'plan every module of a site × environment in order',
  usage: 'site-deploy plan --site S --env E [--max-parallel N] [--json]',
  example: 'site-deploy plan --root examples --site client-portal --env dev --credentials none',
});
