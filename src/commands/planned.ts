/** Commands SPEC §9 names that this version does not have yet: listed in the help, refused as bad input. */
import type { Command, CommandInfo } from './descriptor.js';

function planned(info: Omit<CommandInfo, 'unavailable'>): Command {
  return {
    ...info,
    unavailable: true,
    execute: () => Promise.reject(new Error(`command "${info.name}" is not available in this version yet`)),
  };
}

export const verifyCommand = planned({
  name: 'verify',
  summary: 'verify a deployed site × environment (not available in this version yet)',
  usage: 'site-deploy verify --site S --env E [--json]',
  example: 'site-deploy verify --site client-portal --env production',
  flags: ['site', 'env', 'json'],
  needs: ['site', 'env'],
  inputs: ['site', 'environment'],
});

export const driftCommand = planned({
  name: 'drift',
  summary: 'detect drift (not available in this version yet)',
  usage: 'site-deploy drift --site S --env E [--json]',
  example: 'site-deploy drift --site client-portal --env production',
  flags: ['site', 'env', 'json'],
  needs: ['site', 'env'],
  inputs: ['site', 'environment'],
});
