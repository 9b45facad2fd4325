// The TypeScript server plugin as an editor loads it: scripts/bundle.mjs builds dist/ for real, the
// folder is laid out as the installed extension is (dist/ plus node_modules/memlens-ts-plugin, the
// package scripts/vsix-add-node-modules.mjs puts into the VSIX), and a real tsserver started with
// VS Code's `--globalPlugins`/`--pluginProbeLocations` and inferred-project options checks
// samples/gpt2.ts in a workspace that has no memlens install and no tsconfig.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../../fixtures/repo-root';
import { TsServer } from './tsserver-client';

const PLUGIN = 'memlens-ts-plugin';
const tsserverJs = path.join(repoRoot, 'node_modules', 'typescript', 'lib', 'tsserver.js');

/** What VS Code 1.100 sends as compilerOptionsForInferredProjects for a folder without tsconfig. */
const inferredOptions = {
  module: 'Preserve',
  moduleResolution: 'Bundler',
  target: 'ES2022',
  jsx: 'react-jsx',
  allowImportingTsExtensions: true,
  strictNullChecks: true,
  strictFunctionTypes: true,
  allowJs: true,
  allowSyntheticDefaultImports: true,
  allowNonTsExtensions: true,
  resolveJsonModule: true,
};

interface Location { readonly line: number; readonly offset: number }
interface Diagnostic { readonly start: Location; readonly code: number; readonly text: string }
interface QuickInfo { readonly displayString: string }
interface Definition { readonly file: string; readonly start: Location }
interface Completions { readonly entries: ReadonlyArray<{ readonly name: string }> }

let temp: string;
let extensionDir: string;
let model: string;
let lines: string[];

/** 1-based line and offset of the first `needle` in gpt2.ts, plus `into` characters. */
function locate(needle: string, into = 0): Location {
  const index = lines.findIndex((l) => l.includes(needle));
  assert.ok(index >= 0, `"${needle}" is in gpt2.ts`);
  return { line: index + 1, offset: lines[index].indexOf(needle) + 1 + into };
}

async function openModel(withPlugin: boolean): Promise<TsServer> {
  const server = TsServer.start({
    tsserver: tsserverJs,
    globalPlugins: withPlugin ? [PLUGIN] : undefined,
    pluginProbeLocations: withPlugin ? [extensionDir] : undefined,
  });
  await server.request('compilerOptionsForInferredProjects', { options: inferredOptions });
  server.open(model);
  return server;
}

function show(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.start.line}: TS${d.code} ${d.text}`);
}

before(() => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-ts-plugin-'));
  extensionDir = path.join(temp, 'memlens.memlens-0.1.0');
  const dist = path.join(extensionDir, 'dist');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'bundle.mjs'), '--outdir', dist], { cwd: repoRoot, stdio: 'pipe', timeout: 240_000 });
  fs.cpSync(path.join(dist, 'vsix-node_modules'), path.join(extensionDir, 'node_modules'), { recursive: true });
  const workspace = path.join(temp, 'workspace');
  fs.mkdirSync(workspace);
  model = path.join(workspace, 'gpt2.ts');
  fs.copyFileSync(path.join(repoRoot, 'samples', 'gpt2.ts'), model);
  lines = fs.readFileSync(model, 'utf8').split('\n');
}, { timeout: 300_000 });

after(() => fs.rmSync(temp, { recursive: true, force: true }));

describe('tsserver with the memlens-ts-plugin from the extension folder', { timeout: 120_000 }, () => {
  test('without the plugin, memlens/nn is not found (the failure users saw)', async () => {
    const server = await openModel(false);
    try {
      const diagnostics = await server.request<Diagnostic[]>('semanticDiagnosticsSync', { file: model });
      assert.deepEqual(show(diagnostics.filter((d) => d.code === 2307)), ["4: TS2307 Cannot find module 'memlens/nn' or its corresponding type declarations."]);
    } finally {
      await server.stop();
    }
  });

  test('with it: no diagnostics, and nn.Linear, completions and go-to-definition come from the shipped typings', async () => {
    const server = await openModel(true);
    try {
      assert.deepEqual(show(await server.request<Diagnostic[]>('syntacticDiagnosticsSync', { file: model })), []);
      assert.deepEqual(show(await server.request<Diagnostic[]>('semanticDiagnosticsSync', { file: model })), []);
      assert.deepEqual(show(await server.request<Diagnostic[]>('suggestionDiagnosticsSync', { file: model })), []);

      const hover = await server.request<QuickInfo>('quickinfo', { file: model, ...locate('new nn.Linear', 'new nn.'.length) });
      // The constructor's signature as language/typescript/api/linear.ts declares it.
      assert.match(hover.displayString, /^\(alias\) new Linear\(inFeatures: number, outFeatures: number\b[^]*\): nn\.Linear\nexport Linear$/);
      const field = await server.request<QuickInfo>('quickinfo', { file: model, ...locate('c_attn: nn.Linear') });
      assert.equal(field.displayString, '(property) Attention.c_attn: nn.Linear');

      const completions = await server.request<Completions>('completionInfo', { file: model, ...locate('new nn.Linear', 'new nn.'.length) });
      const names = new Set(completions.entries.map((e) => e.name));
      for (const name of ['Linear', 'Module', 'Tensor', 'KVCache', 'entry', 'input']) assert.ok(names.has(name), `completions after "nn." offer ${name}`);

      const [definition] = await server.request<Definition[]>('definition', { file: model, ...locate('new nn.Linear', 'new nn.'.length) });
      assert.equal(definition.file, path.join(extensionDir, 'dist', 'types', 'language', 'typescript', 'api', 'linear.d.ts'));
    } finally {
      await server.stop();
    }
  });
});

describe('scripts/vsix-add-node-modules.mjs', () => {
  const python = (script: string, ...args: string[]): string => {
    const result = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  };

  test('adds the plugin package as extension/node_modules/ to a zip another tool reads back intact', () => {
    const zip = path.join(temp, 'appended.vsix');
    // A zip written by Python's zipfile stands in for vsce's output: entries, then the central directory.
    python(
      "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n  z.writestr('extension.vsixmanifest', '<PackageManifest/>')\n  z.writestr('extension/package.json', '{\"name\": \"memlens\"}')\n  z.writestr('extension/dist/ts-plugin.js', 'module.exports = () => ({});\\n' * 50)\n",
      zip,
    );
    const from = path.join(extensionDir, 'dist', 'vsix-node_modules');
    const output = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'vsix-add-node-modules.mjs'), zip, '--from', from], { encoding: 'utf8' });
    assert.match(output, /added extension\/node_modules\/memlens-ts-plugin\/index\.js, extension\/node_modules\/memlens-ts-plugin\/package\.json/);
    const listing = JSON.parse(
      python(
        'import sys, json, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({i.filename: z.read(i).decode() for i in z.infolist()}))',
        zip,
      ),
    ) as Record<string, string>;
    // Entry order in a zip carries no meaning; the set of entries and their contents do.
    assert.deepEqual(Object.keys(listing).sort(), [
      'extension.vsixmanifest',
      'extension/dist/ts-plugin.js',
      'extension/node_modules/memlens-ts-plugin/index.js',
      'extension/node_modules/memlens-ts-plugin/package.json',
      'extension/package.json',
    ]);
    assert.equal(listing['extension/dist/ts-plugin.js'], 'module.exports = () => ({});\n'.repeat(50));
    assert.equal(listing['extension/node_modules/memlens-ts-plugin/index.js'], fs.readFileSync(path.join(from, PLUGIN, 'index.js'), 'utf8'));
    assert.deepEqual(JSON.parse(listing['extension/node_modules/memlens-ts-plugin/package.json']), { name: PLUGIN, version: '0.1.0', private: true, main: 'index.js' });
  });

  test('refuses, in one line, to add a file the archive already holds', () => {
    const zip = path.join(temp, 'twice.vsix');
    python("import sys, zipfile\nzipfile.ZipFile(sys.argv[1], 'w').writestr('extension/package.json', '{}')", zip);
    const from = path.join(extensionDir, 'dist', 'vsix-node_modules');
    const script = path.join(repoRoot, 'scripts', 'vsix-add-node-modules.mjs');
    execFileSync(process.execPath, [script, zip, '--from', from]);
    const again = spawnSync(process.execPath, [script, zip, '--from', from], { encoding: 'utf8' });
    assert.equal(again.status, 2);
    assert.equal(again.stderr, `vsix-add-node-modules: ${zip}: the archive already holds extension/node_modules/memlens-ts-plugin/index.js\n`);
  });
});
