// The import layering, read from every source file's import statements (static, type-only,
// dynamic `import()` and `require`): data flows one way, from the engine up to the two front ends,
// and neither front end reaches into the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../fixtures/repo-root';

/** What a folder may import besides itself and npm packages, lowest layer first. */
const ALLOWED: Record<string, readonly string[]> = {
  'extension/engine': [],
  // Child processes: limits, process trees, checked replies; every front end and the runner use it.
  'extension/process': ['extension/engine'],
  'language': ['extension/engine', 'extension/process'],
  'extension/runner': ['extension/engine', 'extension/process'],
  'extension/analysis': ['extension/engine', 'extension/process', 'language', 'extension/runner'],
  'extension/presentation': ['extension/engine', 'extension/process', 'language', 'extension/runner', 'extension/analysis', 'webview/protocol.ts'],
  'extension/cli': ['extension/engine', 'extension/process', 'language', 'extension/runner', 'extension/analysis', 'extension/presentation'],
  'extension/vscode': ['extension/engine', 'extension/process', 'language', 'extension/runner', 'extension/analysis', 'extension/presentation', 'webview/protocol.ts'],
  'extension/ts-plugin': [],
  // The panel runs in a browser: the protocol, and the engine's pure formatting, nothing of the host.
  'webview/timeline': ['webview/protocol.ts', 'extension/engine'],
  'webview/protocol.ts': [],
};

/** Only the editor adapters (and the tests that run inside an editor) may import `vscode`. */
const MAY_IMPORT_VSCODE = ['extension/vscode', 'test/e2e', 'test/electron'];

const NODE_BUILTINS = new Set(['fs', 'path', 'os', 'crypto', 'child_process', 'util', 'url', 'module', 'worker_threads', 'stream', 'events']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (e.name.endsWith('.ts') && !rel.startsWith('test/fixtures/models')) out.push(rel);
  }
  return out;
}

/** The layer (a key of ALLOWED) a repository path belongs to; null outside them (tests, samples). */
function layerOf(rel: string): string | null {
  return Object.keys(ALLOWED).find((l) => rel === l || rel.startsWith(`${l}/`)) ?? null;
}

function importsOf(rel: string): string[] {
  return ts.preProcessFile(fs.readFileSync(path.join(repoRoot, rel), 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/** The repository path a relative specifier names (extension-less, as written). */
const resolveRelative = (from: string, spec: string) => path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));

const ALL_FILES = ['extension', 'language', 'webview', 'test'].flatMap(sourceFiles);

test('the files read here include every layer', () => {
  for (const layer of Object.keys(ALLOWED)) assert.ok(ALL_FILES.some((f) => layerOf(f) === layer), `no source files in ${layer}`);
});

test('each layer imports only the layers below it', () => {
  const bad: string[] = [];
  for (const file of ALL_FILES) {
    const layer = layerOf(file);
    if (!layer) continue;
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      const target = resolveRelative(file, spec);
      const targetLayer = layerOf(target) ?? layerOf(`${target}.ts`);
      if (targetLayer === layer) continue;
      if (targetLayer === null || !ALLOWED[layer].includes(targetLayer)) bad.push(`${file} imports ${spec} (${targetLayer ?? target})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('only the editor adapters import vscode; the webview imports no Node built-ins', () => {
  const bad: string[] = [];
  for (const file of ALL_FILES) {
    for (const spec of importsOf(file)) {
      if (spec === 'vscode' && !MAY_IMPORT_VSCODE.some((d) => file.startsWith(`${d}/`))) bad.push(`${file} imports vscode`);
      const builtin = spec.replace(/^node:/, '').split('/')[0];
      if (file.startsWith('webview/') && (spec.startsWith('node:') || NODE_BUILTINS.has(builtin))) bad.push(`${file} imports ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('no barrels: no index.ts and no export * in the sources', () => {
  const bad: string[] = [];
  for (const file of ALL_FILES.filter((f) => !f.startsWith('test/'))) {
    if (path.posix.basename(file) === 'index.ts') bad.push(`${file} is a barrel`);
    const source = ts.createSourceFile(file, fs.readFileSync(path.join(repoRoot, file), 'utf8'), ts.ScriptTarget.ES2022);
    for (const s of source.statements) {
      if (ts.isExportDeclaration(s) && !s.exportClause && s.moduleSpecifier) bad.push(`${file}: ${s.getText(source)}`);
    }
  }
  assert.deepEqual(bad, []);
});
