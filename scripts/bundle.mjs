// Builds dist/ for the VS Code package and the bundled CLI with esbuild:
//   extension.js  the extension host entry (small; loads engine.js on first use)
//   engine.js     loading, the engine, discovery, the runner client
//   engine-worker.js  the worker thread that profiles files off the extension host's thread
//                 (presentation/engine-client.ts starts it from __dirname)
//   cli.js        the `memlens` CLI (exports runCli; bin/memlens.js falls back to it)
//   worker.js     the ONNX Runtime run process (extension/runner/run.ts forks __dirname/worker.js)
//   ts-morph.js   ts-morph and its TypeScript, required by the bundles above when first needed
//   trace-worker.js + api/  the TypeScript tracer process and the `memlens/nn` runtime it hands
//                 to user models (one shared copy of the API, see apiRuntimePlugin)
//   webview.js + webview.css  the timeline panel (browser, chart.js bundled in; plain themed HTML controls)
//   ts-plugin.js  the TypeScript server plugin that resolves `memlens/nn` to dist/api/nn.d.ts in
//                 any workspace; vsix-node_modules/ holds the package tsserver loads it through,
//                 which scripts/vsix-add-node-modules.mjs puts into the VSIX's node_modules/
// and copies what is read at run time: tree-sitter wasm files, the Python export script, the
// `memlens/nn` typings, and onnxruntime-node for one platform (dist/node_modules/).
//
// Usage: node scripts/bundle.mjs [--production] [--target linux-x64] [--outdir dist]
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dist = args.includes('--outdir') ? path.resolve(args[args.indexOf('--outdir') + 1]) : path.join(root, 'dist');
const production = args.includes('--production');
const targetArg = args.includes('--target') ? args[args.indexOf('--target') + 1] : `${process.platform}-${process.arch}`;
const [platform, arch] = targetArg.split('-');

const API_DIR = path.join(root, 'language', 'typescript', 'api');
const API_MODULES = fs.readdirSync(API_DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => f.slice(0, -3));
const ERRORS_FILE = path.join(root, 'extension', 'engine', 'errors.ts');
/** Export name of an API module in the runtime bundle (`source-location` -> `source_location`). */
const runtimeKey = (module) => module.replace(/-/g, '_');

const nodeOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode', 'onnxruntime-node'],
  sourcemap: production ? false : 'linked',
  minify: production,
  keepNames: true, // error names (MemlensError) are matched across bundles
  logLevel: 'warning',
  tsconfig: path.join(root, 'tsconfig.json'),
  // web-tree-sitter's ESM build reads import.meta.url, which a CommonJS bundle does not have.
  alias: { 'web-tree-sitter': path.join(root, 'node_modules', 'web-tree-sitter', 'web-tree-sitter.cjs') },
};

/**
 * User models `require('memlens/nn')` inside the trace process and get dist/api/nn.js; the tracer
 * must see the same classes (instanceof Module, the current trace). So the API is bundled once
 * into dist/api/runtime.js (every API module as a namespace), and the tracer's imports of API
 * modules (and of MemlensError, which the API throws) become requires of that file.
 */
const apiRuntimePlugin = {
  name: 'memlens-api-runtime',
  setup(build) {
    build.onResolve({ filter: /^\.{1,2}\// }, (a) => {
      if (a.namespace !== 'file' || a.importer.startsWith(API_DIR + path.sep)) return undefined;
      const resolved = path.resolve(a.resolveDir, a.path);
      const base = resolved.replace(/\.(ts|js)$/, '');
      if (path.dirname(base) === API_DIR && API_MODULES.includes(path.basename(base))) {
        return { path: path.basename(base), namespace: 'memlens-api' };
      }
      if (base + '.ts' === ERRORS_FILE) return { path: 'errors', namespace: 'memlens-api' };
      return undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'memlens-api' }, (a) => ({
      contents: `module.exports = require('./api/runtime.js')[${JSON.stringify(runtimeKey(a.path))}];`,
      loader: 'js',
      resolveDir: dist,
    }));
    build.onResolve({ filter: /^\.\/api\/runtime\.js$/ }, () => ({ path: './api/runtime.js', external: true }));
  },
};

/**
 * ts-morph (with the TypeScript compiler it carries, about 13 MB) is one shared bundle,
 * dist/ts-morph.js, that the engine, engine worker, CLI and tracer require by relative path when
 * they first need it (TypeScript discovery, tracing, source edits). Bundled into each of them it
 * was compiled by V8 whenever any of them loaded: 200 ms of the engine's 230 ms start, on the
 * extension host's thread, even for a Python or ONNX file.
 */
const sharedTsMorphPlugin = {
  name: 'memlens-shared-ts-morph',
  setup(build) {
    build.onResolve({ filter: /^ts-morph$/ }, () => ({ path: './ts-morph.js', external: true }));
  },
};

function apiRuntimeEntry() {
  const lines = API_MODULES.map((m) => `export * as ${runtimeKey(m)} from './${m}';`);
  lines.push(`export * as errors from '../../../extension/engine/errors';`);
  return lines.join('\n');
}

/**
 * tsserver requires a contributed plugin as <extension>/node_modules/<name>: a package whose
 * index.js hands over to dist/ts-plugin.js (so the plugin finds the typings beside it).
 */
function writeTsPluginPackage() {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  for (const { name } of manifest.contributes.typescriptServerPlugins) {
    const dir = path.join(dist, 'vsix-node_modules', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, version: manifest.version, private: true, main: 'index.js' }, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, 'index.js'), "'use strict';\nmodule.exports = require('../../dist/ts-plugin.js');\n");
  }
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true });
}

function copyRuntimeFiles() {
  const nm = path.join(root, 'node_modules');
  // tree-sitter: language/python/parser.ts looks next to the bundle first.
  copy(path.join(nm, 'web-tree-sitter', 'web-tree-sitter.wasm'), path.join(dist, 'web-tree-sitter.wasm'));
  copy(path.join(nm, 'tree-sitter-python', 'tree-sitter-python.wasm'), path.join(dist, 'tree-sitter-python.wasm'));
  // The Python bridge scripts run as files: language/python/export.ts and measure.ts look in
  // dist/python-bridge/ (export_onnx.py, measure_torch.py and the memlens_user_code.py they share).
  for (const file of fs.readdirSync(path.join(root, 'language', 'python', 'bridge')).filter((f) => f.endsWith('.py'))) {
    copy(path.join(root, 'language', 'python', 'bridge', file), path.join(dist, 'python-bridge', file));
  }
  // onnxruntime-node stays external (native); vsce packages no node_modules with --no-dependencies,
  // so this platform's binaries and the JS they need go to dist/node_modules/.
  const ort = path.join(nm, 'onnxruntime-node');
  const ortOut = path.join(dist, 'node_modules', 'onnxruntime-node');
  copy(path.join(ort, 'package.json'), path.join(ortOut, 'package.json'));
  copy(path.join(ort, 'dist'), path.join(ortOut, 'dist'));
  for (const napi of fs.readdirSync(path.join(ort, 'bin'))) {
    const bin = path.join(ort, 'bin', napi, platform, arch);
    if (fs.existsSync(bin)) copy(bin, path.join(ortOut, 'bin', napi, platform, arch));
  }
  const common = path.join(nm, 'onnxruntime-common');
  const commonOut = path.join(dist, 'node_modules', 'onnxruntime-common');
  copy(path.join(common, 'package.json'), path.join(commonOut, 'package.json'));
  copy(path.join(common, 'dist', 'cjs'), path.join(commonOut, 'dist', 'cjs'));
  for (const dir of [ortOut, commonOut]) {
    for (const f of fs.readdirSync(dir, { recursive: true })) {
      if (/\.(d\.ts|map)$/.test(String(f))) fs.rmSync(path.join(dir, String(f)));
    }
  }
}

/** `memlens/nn` typings for editors (dist/api/*.d.ts), emitted by tsc from the API sources. */
function emitApiTypings() {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [
    tsc, '--ignoreConfig', '--declaration', '--emitDeclarationOnly', '--skipLibCheck', '--strict', '--target', 'ES2022', '--module', 'commonjs',
    '--moduleResolution', 'node10', '--ignoreDeprecations', '6.0', '--types', 'node', '--rootDir', root, '--outDir', path.join(dist, 'types'),
    path.join(API_DIR, 'nn.ts'),
  ], { cwd: root, stdio: 'inherit' });
  // dist/api/nn.d.ts points at the emitted tree so `memlens/nn` resolves to real types.
  fs.writeFileSync(path.join(dist, 'api', 'nn.d.ts'), "export * from '../types/language/typescript/api/nn';\n");
}

async function main() {
  fs.rmSync(dist, { recursive: true, force: true });
  fs.mkdirSync(path.join(dist, 'api'), { recursive: true });
  const started = Date.now();
  await Promise.all([
    // The banner times activation from the bundle's first line (extension.ts logs it).
    esbuild.build({
      ...nodeOptions, entryPoints: { extension: 'extension/vscode/extension.ts' }, outdir: dist,
      // The directive first, so the bundle stays strict with the banner above esbuild's own.
      banner: { js: '"use strict";\nvar __memlensLoadStart = performance.now();' },
    }),
    esbuild.build({ ...nodeOptions, entryPoints: { engine: 'extension/presentation/editor-api.ts' }, outdir: dist, plugins: [sharedTsMorphPlugin] }),
    esbuild.build({ ...nodeOptions, entryPoints: { 'engine-worker': 'extension/presentation/engine-worker.ts' }, outdir: dist, plugins: [sharedTsMorphPlugin] }),
    esbuild.build({ ...nodeOptions, entryPoints: { cli: 'extension/cli/main.ts' }, outdir: dist, plugins: [sharedTsMorphPlugin] }),
    esbuild.build({ ...nodeOptions, entryPoints: { worker: 'extension/runner/worker.ts' }, outdir: dist }),
    esbuild.build({ ...nodeOptions, entryPoints: { 'ts-plugin': 'extension/ts-plugin/plugin.ts' }, outdir: dist }),
    esbuild.build({ ...nodeOptions, entryPoints: { 'trace-worker': 'language/typescript/trace-worker.ts' }, outdir: dist, plugins: [apiRuntimePlugin, sharedTsMorphPlugin] }),
    esbuild.build({
      ...nodeOptions,
      stdin: { contents: "module.exports = require('ts-morph');", resolveDir: root, sourcefile: 'ts-morph-shared.js', loader: 'js' },
      outfile: path.join(dist, 'ts-morph.js'),
    }),
    esbuild.build({
      ...nodeOptions,
      stdin: { contents: apiRuntimeEntry(), resolveDir: API_DIR, sourcefile: 'api-runtime.ts', loader: 'ts' },
      outfile: path.join(dist, 'api', 'runtime.js'),
    }),
    esbuild.build({
      absWorkingDir: root,
      entryPoints: { webview: 'webview/timeline/main.ts' },
      outdir: dist,
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      minify: production,
      sourcemap: production ? false : 'linked',
      tsconfig: path.join(root, 'webview', 'tsconfig.json'),
      logLevel: 'warning',
    }),
  ]);
  fs.writeFileSync(path.join(dist, 'api', 'nn.js'), "'use strict';\n// The public face of the shared API runtime (see scripts/bundle.mjs).\nmodule.exports = require('./runtime.js').nn;\n");
  copyRuntimeFiles();
  emitApiTypings();
  writeTsPluginPackage();
  const size = (f) => `${(fs.statSync(path.join(dist, f)).size / 1024).toFixed(0)} KiB`;
  console.log(`dist/ built for ${platform}-${arch} in ${Date.now() - started} ms: extension.js ${size('extension.js')}, engine.js ${size('engine.js')}, engine-worker.js ${size('engine-worker.js')}, cli.js ${size('cli.js')}, trace-worker.js ${size('trace-worker.js')}, ts-morph.js ${size('ts-morph.js')}, webview.js ${size('webview.js')}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
