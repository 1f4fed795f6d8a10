import type { Layout } from '../core/config/load.js';
import { loadWorkspace } from '../core/config/load.js';
import { Problems } from '../core/errors.js';
import {
  affectedEntries,
  matrixDocument,
  matrixEntries,
  type BeforeReader,
  type ChangedFile,
  type MatrixDocument,
} from '../core/matrix.js';
import type { CommandPorts } from './ports.js';

/** Which repository, and optionally what changed. */
export interface MatrixSettings {
  root: string;
  layout: Layout;
}

/** What a change touched, as git tells it. */
export interface ChangeSet {
  files: ChangedFile[];
  /** A file's text before the change. */
  before: BeforeReader;
}

/**
 * `matrix`: one entry per site × environment (SPEC §9), or with a change set only those it
 * affects. Config files that do not load are bad input: a matrix built on them would hide them.
 */
export function matrix(s: MatrixSettings, ports: CommandPorts, change?: ChangeSet): MatrixDocument {
  const problems = new Problems();
  const reader = ports.files(s.root);
  const ws = loadWorkspace(reader, s.layout, problems);
  problems.throwIfErrors();
  const all = matrixEntries(ws);
  const entries = change
    ? affectedEntries(ws, all, change.files, change.before, (p) => {
        const bytes = reader.read(p);
        return bytes && new TextDecoder().decode(bytes);
      })
    : all;
  return matrixDocument(entries, { file: '', line: 0, column: 0 });
}
