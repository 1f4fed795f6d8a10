/**
 * The shape of the source tree, checked on every run: no function over 80 lines, no import cycle,
 * the core's units layered (a unit imports only units on its own floor or below), and a ceiling on
 * `as` casts. Read from the sources with the TypeScript compiler's parser, as a reader sees them.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const MAX_FUNCTION_LINES = 80;
/** The tree had 243 before the loader built its model from typed documents; lower it as casts go, never raise it. */
const MAX_CASTS = 63;

/**
 * The core's units from the ground up: a unit is a top-level file or folder of src/core. A unit may
 * import units of its own floor or lower ones, never a higher one; two units of one floor must not
 * import each other in a loop (the cycle check below sees that).
 */
const FLOORS: readonly (readonly string[])[] = [
  ['errors', 'suggest', 'redact', 'duration', 'workflow-commands', 'status', 'yaml'],
  ['placeholders', 'credentials'],
  ['result', 'result-schema'],
  ['config'],
  ['inputs'],
  ['graph'],
  ['plan'],
  ['binding'],
  ['run'],
  ['promotion', 'evidence'],
  ['matrix', 'project', 'checks'],
  ['report'],
];

interface SourceFile {
  path: string;
  tree: ts.SourceFile;
  imports: string[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.includes('.generated.') ? [path] : [];
  });
}

/** Every relative module a file imports: static, type-only, re-exported or loaded with import(). */
function importsOf(tree: ts.SourceFile, file: string): string[] {
  const found: string[] = [];
  const add = (spec: ts.Expression | undefined): void => {
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.'))
      found.push(relative(ROOT, resolve(dirname(file), spec.text.replace(/\.js$/, '.ts'))));
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      add(node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}

const files: SourceFile[] = sourceFiles(SRC).map((path) => {
  const tree = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  return { path: relative(ROOT, path), tree, imports: importsOf(tree, path) };
});

function functionName(node: ts.Node): string {
  const named = (node as { name?: ts.Node }).name;
  if (named) return named.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText();
  return '(anonymous)';
}

function isFunction(node: ts.Node): boolean {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

function walk(tree: ts.SourceFile, visit: (node: ts.Node) => void): void {
  const step = (node: ts.Node): void => {
    visit(node);
    ts.forEachChild(node, step);
  };
  step(tree);
}

/** Strongly connected groups of more than one node (Tarjan), each listed in a stable order. */
function cycles(nodes: string[], edges: (n: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) ?? 0);
    stack.push(v);
    onStack.add(v);
    for (const w of edges(v)) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      group.push(w);
    }
    if (group.length > 1) found.push(group.sort());
  };
  for (const n of nodes) if (!index.has(n)) connect(n);
  return found;
}

const coreUnit = (path: string): string | undefined =>
  /^src\/core\/([^/]+?)(?:\.ts)?(?:\/|$)/.exec(path)?.[1];
const floorOf = (unit: string): number => FLOORS.findIndex((floor) => floor.includes(unit));

describe('source structure', () => {
  test(`no function in src/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    for (const { path, tree } of files)
      walk(tree, (node) => {
        if (!isFunction(node)) return;
        const first = tree.getLineAndCharacterOfPosition(node.getStart()).line;
        const lines = tree.getLineAndCharacterOfPosition(node.end).line - first + 1;
        if (lines > MAX_FUNCTION_LINES)
          long.push(`${path}:${first + 1} ${functionName(node)}: ${lines} lines`);
      });
    expect(long).toEqual([]);
  });

  test('no import cycle between files of src/', () => {
    const known = new Set(files.map((f) => f.path));
    const importsByFile = new Map(files.map((f) => [f.path, f.imports.filter((i) => known.has(i))]));
    expect(cycles([...known], (f) => importsByFile.get(f) ?? [])).toEqual([]);
  });

  test('every unit of src/core stands on a floor, and none imports a unit above it', () => {
    const upward: string[] = [];
    const unplaced = new Set<string>();
    for (const { path, imports } of files) {
      const from = coreUnit(path);
      if (from === undefined) continue;
      if (floorOf(from) < 0) unplaced.add(from);
      for (const target of imports) {
        const to = coreUnit(target);
        if (to === undefined || to === from) continue;
        if (floorOf(to) < 0) unplaced.add(to);
        else if (floorOf(to) > floorOf(from))
          upward.push(`${path} -> ${target} (${from} imports ${to}, a higher floor)`);
      }
    }
    expect([...unplaced]).toEqual([]);
    expect(upward).toEqual([]);
  });

  test('the core imports no command or adapter', () => {
    const outward = files.flatMap(({ path, imports }) =>
      coreUnit(path) === undefined
        ? []
        : imports.filter((i) => !i.startsWith('src/core/')).map((i) => `${path} -> ${i}`),
    );
    expect(outward).toEqual([]);
  });

  test(`src/ holds at most ${MAX_CASTS} \`as\` casts (\`as const\` aside)`, () => {
    let casts = 0;
    for (const { tree } of files)
      walk(tree, (node) => {
        if (ts.isAsExpression(node) && node.type.getText() !== 'const') casts++;
      });
    expect(casts).toBeLessThanOrEqual(MAX_CASTS);
  });
});
