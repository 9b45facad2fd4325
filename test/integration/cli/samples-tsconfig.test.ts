// The samples folder opened in an editor type-checks clean: under this repository's TypeScript and
// under the older one VS Code bundles (code-server's copy, installed for the e2e suite), which
// rejects options only newer compilers accept (ignoreDeprecations "6.0").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TS from 'typescript';

const ROOT = path.resolve(__dirname, '../../..', '..');
const CONFIG = path.join(ROOT, 'samples', 'tsconfig.json');
const BUNDLED = path.join(ROOT, '.e2e', 'node_modules', 'code-server', 'lib', 'vscode', 'extensions', 'node_modules', 'typescript', 'lib', 'typescript.js');

function diagnostics(ts: typeof TS): string[] {
  const out: string[] = [];
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d: TS.Diagnostic) => out.push(ts.flattenDiagnosticMessageText(d.messageText, '\n')) };
  const cfg = ts.getParsedCommandLineOfConfigFile(CONFIG, {}, host);
  if (!cfg) return out;
  const program = ts.createProgram({ rootNames: cfg.fileNames, options: cfg.options });
  assert.ok(cfg.fileNames.length >= 5, `the samples are included: ${cfg.fileNames.join(', ')}`);
  for (const d of [...cfg.errors, ...ts.getPreEmitDiagnostics(program)]) out.push(`${d.file?.fileName ?? CONFIG}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  return out;
}

test("samples/tsconfig.json: no TypeScript errors under the repository's TypeScript", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  assert.deepEqual(diagnostics(require('typescript') as typeof TS), []);
});

test('samples/tsconfig.json: no TypeScript errors under the TypeScript VS Code bundles', () => {
  assert.ok(fs.existsSync(BUNDLED), `${BUNDLED} is missing: run scripts/setup-e2e.sh (CI does before npm test)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require(BUNDLED) as typeof TS;
  assert.match(ts.version, /^5\./);
  assert.deepEqual(diagnostics(ts), []);
});
