import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Problems } from '../src/core/errors.js';
import { parseYaml } from '../src/core/config/yaml.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === '.site-deploy' ? [] : yamlFiles(p);
    return /\.ya?ml$/.test(n) ? [p] : [];
  });
}

const tricky = [
  'a: "cron(0 5 * * ? *)"\nb: \'x & y\'\n',
  'a: 1_000\nb: 0o17\nc: 0x1F\nd: .5\ne: -.inf\nf: ~\ng: True\nh: yes\n',
  'list:\n  - "#{a.b}"\n  - { k: v, n: [1, 2] }\n',
  'a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n',
  "k: 'it''s'\nq: \"tab\\tnew\\nline\"\n",
];

test.each([...yamlFiles('examples'), ...tricky.map((_, i) => `tricky #${i + 1}`)])(
  'the fast path reads %s exactly as the position-keeping parser does',
  (name) => {
    const text = name.startsWith('tricky')
      ? (tricky[Number(name.slice(8)) - 1] as string)
      : readFileSync(name, 'utf8');
    const fast = parseYaml(text, name, new Problems());
    const full = parseYaml(text, name, new Problems(), { fast: false });
    expect(fast?.value).toEqual(full?.value);
    expect(fast).toBeDefined();
  },
);

test('positions are exact on the fast path too', () => {
  const text = 'site:\n  name: s1\n  modules:\n    - type: vpc\n      wieght: 10\n';
  const file = parseYaml(text, 'site.yaml', new Problems());
  expect(file?.locate(['site', 'modules', 0, 'wieght'], true)).toEqual({
    file: 'site.yaml',
    line: 5,
    column: 7,
  });
});

test('anchors and aliases take the bounded parser: an alias bomb is an error, not a hang', () => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++)
    levels.push(
      `${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9)
        .fill(`*${'abcdefghi'[i - 1]}`)
        .join(', ')}]`,
    );
  const problems = new Problems();
  expect(parseYaml(levels.join('\n'), 'bomb.yaml', problems)).toBeUndefined();
  expect(problems.list[0]?.message).toMatch(/too many alias expansions/);
});
