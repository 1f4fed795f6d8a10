// action.yml and the command descriptors say the same: every input a command reads is declared,
// every declared input is read by a command or by the run environment, and the `command` input
// names exactly the action commands.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ACTION_COMMANDS, ENVIRONMENT_INPUTS } from '../src/adapters/action/inputs.js';

interface ActionYml {
  inputs: Record<string, { description: string; default?: string }>;
}

const yml = parse(readFileSync('action.yml', 'utf8')) as ActionYml;
const declared = Object.keys(yml.inputs).sort();

describe('action.yml follows the command descriptors', () => {
  test.each(ACTION_COMMANDS.map((c) => [c.name, c.inputs ?? []] as const))(
    '%s: every input it reads is declared in action.yml',
    (_name, inputs) => {
      for (const i of inputs) expect(declared).toContain(i);
    },
  );

  test('every input action.yml declares is read by a command or the run environment', () => {
    const read = new Set<string>([...ENVIRONMENT_INPUTS, ...ACTION_COMMANDS.flatMap((c) => c.inputs ?? [])]);
    expect(declared.filter((i) => !read.has(i))).toEqual([]);
    expect([...read].filter((i) => !declared.includes(i))).toEqual([]);
  });

  test('the command input lists exactly the action commands, its default among them', () => {
    const named = /:\s*([a-z-]+(?:\s*\|\s*[a-z-]+)*)\.?"?$/.exec(yml.inputs.command?.description ?? '')?.[1];
    expect(named?.split(/\s*\|\s*/)).toEqual(ACTION_COMMANDS.map((c) => c.name));
    expect(ACTION_COMMANDS.map((c) => c.name)).toContain(yml.inputs.command?.default);
  });
});
