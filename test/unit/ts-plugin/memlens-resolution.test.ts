// resolveMemlensFrom over a real TypeScript language service on an in-memory project: a model file
// importing `memlens/nn` gets no "Cannot find module" error and real types, whichever resolution
// hook the host has, while the project's own answer (tsconfig paths) still wins.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { MEMLENS_NN, resolveMemlensFrom } from '../../../extension/ts-plugin/memlens-resolution';

const TYPINGS = '/ext/dist/api/nn.d.ts';
const MODEL = '/ws/model.ts';

/** A small stand-in for the shipped typings: the names and signatures the model below uses. */
const NN_DTS = [
  'export declare class Tensor { add(other: Tensor): Tensor; }',
  'export declare class Module {}',
  'export declare class Linear extends Module {',
  '  constructor(inFeatures: number, outFeatures: number);',
  '  forward(x: Tensor): Tensor;',
  '}',
  'export declare function input(shape: readonly (number | string)[]): Tensor;',
  '',
].join('\n');

const MODEL_TS = [
  "import * as nn from 'memlens/nn';",
  '',
  'export class Tiny extends nn.Module {',
  '  fc = new nn.Linear(16, 32);',
  '  forward(x: nn.Tensor): nn.Tensor {',
  '    return this.fc.forward(x);',
  '  }',
  '}',
  '',
].join('\n');

type HostHook = 'none' | 'literals' | 'names';

/** An in-memory LanguageServiceHost; `hook` picks which resolution method it brings of its own. */
function makeService(files: Record<string, string>, options: ts.CompilerOptions, hook: HostHook, plugin: boolean): ts.LanguageService {
  const has = (f: string): boolean => Object.prototype.hasOwnProperty.call(files, f);
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => options,
    getScriptFileNames: () => [MODEL],
    getScriptVersion: () => '1',
    getScriptSnapshot: (f) => (has(f) ? ts.ScriptSnapshot.fromString(files[f]) : undefined),
    getCurrentDirectory: () => '/ws',
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (f) => has(f) || ts.sys.fileExists(f),
    readFile: (f) => (has(f) ? files[f] : ts.sys.readFile(f)),
    directoryExists: (d) => Object.keys(files).some((f) => f.startsWith(`${d}/`)) || ts.sys.directoryExists(d),
    getDirectories: () => [],
    useCaseSensitiveFileNames: () => true,
  };
  const resolutionHost: ts.ModuleResolutionHost = { fileExists: (f) => host.fileExists(f), readFile: (f) => host.readFile(f), directoryExists: (d) => host.directoryExists?.(d) ?? false, getCurrentDirectory: () => '/ws' };
  if (hook === 'literals') {
    host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts, sourceFile) =>
      literals.map((l) => ts.resolveModuleName(l.text, containingFile, opts, resolutionHost, undefined, redirected, ts.getModeForUsageLocation(sourceFile, l, opts)));
  } else if (hook === 'names') {
    host.resolveModuleNames = (names, containingFile, _reused, redirected, opts) =>
      names.map((n) => ts.resolveModuleName(n, containingFile, opts, resolutionHost, undefined, redirected).resolvedModule);
  }
  if (plugin) resolveMemlensFrom(ts, host, TYPINGS);
  return ts.createLanguageService(host);
}

const bundler: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, strict: true, types: [] };

function diagnostics(service: ts.LanguageService): string[] {
  return [...service.getSyntacticDiagnostics(MODEL), ...service.getSemanticDiagnostics(MODEL)].map(
    (d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
  );
}

function quickInfoAt(service: ts.LanguageService, text: string, needle: string, into: number): string {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `"${needle}" is in the model`);
  const info = service.getQuickInfoAtPosition(MODEL, at + into);
  return ts.displayPartsToString(info?.displayParts);
}

describe('memlens/nn resolution in a language service', () => {
  test('without the plugin the import is unresolved (what users saw)', () => {
    const service = makeService({ [MODEL]: MODEL_TS, [TYPINGS]: NN_DTS }, bundler, 'none', false);
    assert.deepEqual(diagnostics(service), ["TS2307: Cannot find module 'memlens/nn' or its corresponding type declarations."]);
    assert.equal(quickInfoAt(service, MODEL_TS, 'nn.Linear', 3), 'any');
  });

  for (const hook of ['none', 'literals', 'names'] as const) {
    test(`with the plugin over a host resolving with ${hook === 'none' ? 'no hook of its own' : `resolveModule${hook === 'literals' ? 'NameLiterals' : 'Names'}`}: no errors, real types`, () => {
      const service = makeService({ [MODEL]: MODEL_TS, [TYPINGS]: NN_DTS }, bundler, hook, true);
      assert.deepEqual(diagnostics(service), []);
      assert.equal(quickInfoAt(service, MODEL_TS, 'nn.Linear', 3), 'constructor Linear(inFeatures: number, outFeatures: number): nn.Linear');
      assert.equal(quickInfoAt(service, MODEL_TS, 'fc =', 0), '(property) Tiny.fc: nn.Linear');
      assert.equal(quickInfoAt(service, MODEL_TS, 'forward(x);', 0), '(method) Linear.forward(x: nn.Tensor): nn.Tensor');
      const completions = service.getCompletionsAtPosition(MODEL, MODEL_TS.indexOf('nn.Linear') + 3, undefined);
      assert.deepEqual(completions?.entries.map((e) => e.name).sort(), ['Linear', 'Module', 'Tensor', 'input']);
      assert.equal(service.getProgram()?.getSourceFile(TYPINGS)?.fileName, TYPINGS);
    });
  }

  test('under node10 resolution and CommonJS too', () => {
    const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, strict: true, types: [], ignoreDeprecations: '6.0' };
    const service = makeService({ [MODEL]: MODEL_TS, [TYPINGS]: NN_DTS }, options, 'none', true);
    assert.deepEqual(diagnostics(service), []);
    assert.equal(quickInfoAt(service, MODEL_TS, 'fc =', 0), '(property) Tiny.fc: nn.Linear');
  });

  test('other unresolved imports still report "Cannot find module"', () => {
    const text = `${MODEL_TS}import { x } from 'memlens/missing';\nimport * as nn2 from 'memlens/nn/extra';\nexport const y = [x, nn2];\n`;
    const service = makeService({ [MODEL]: text, [TYPINGS]: NN_DTS }, bundler, 'literals', true);
    assert.deepEqual(diagnostics(service), [
      "TS2307: Cannot find module 'memlens/missing' or its corresponding type declarations.",
      "TS2307: Cannot find module 'memlens/nn/extra' or its corresponding type declarations.",
    ]);
  });

  test("a project that maps memlens/nn itself (tsconfig paths) keeps its own module", () => {
    const own = '/ws/vendor/nn.d.ts';
    const options: ts.CompilerOptions = { ...bundler, paths: { [MEMLENS_NN]: [own] } };
    const ownTypings = 'export declare class Linear { constructor(size: number); readonly own: true; }\nexport declare class Module {}\nexport declare class Tensor {}\n';
    const text = "import * as nn from 'memlens/nn';\nexport const l = new nn.Linear(4);\n";
    const service = makeService({ [MODEL]: text, [TYPINGS]: NN_DTS, [own]: ownTypings }, options, 'literals', true);
    assert.deepEqual(diagnostics(service), []);
    const program = service.getProgram()!;
    assert.ok(program.getSourceFile(own), 'the mapped file is in the program');
    assert.equal(program.getSourceFile(TYPINGS), undefined, 'the shipped typings are not');
  });
});
