// Teaches a TypeScript language service host where `memlens/nn` lives: the typings the extension
// ships. Only imports the workspace's own resolution leaves unresolved are answered, so a project
// that installs the package or maps the name in its tsconfig keeps its own answer.
import type * as TS from 'typescript';

/** The one module name model files import the MemLens model API under. */
export const MEMLENS_NN = 'memlens/nn';

type Typescript = typeof TS;

/**
 * Wraps `host`'s module resolution (TS 5+ `resolveModuleNameLiterals`, else the older
 * `resolveModuleNames`; a host with neither gets a literal resolver over `ts.resolveModuleName`)
 * so an unresolved `memlens/nn` resolves to `typingsFile`, a `.d.ts`.
 */
export function resolveMemlensFrom(ts: Typescript, host: TS.LanguageServiceHost, typingsFile: string): void {
  const resolved = (): TS.ResolvedModuleFull => ({
    resolvedFileName: typingsFile,
    extension: ts.Extension.Dts,
    // Like a package in node_modules: declarations only, never emitted or type-checked as the user's code.
    isExternalLibraryImport: true,
  });
  const literals = host.resolveModuleNameLiterals?.bind(host) ?? (host.resolveModuleNames === undefined ? defaultLiteralResolver(ts, host) : undefined);
  if (literals !== undefined) {
    host.resolveModuleNameLiterals = (moduleLiterals, containingFile, redirectedReference, options, containingSourceFile, reusedNames) =>
      literals(moduleLiterals, containingFile, redirectedReference, options, containingSourceFile, reusedNames).map((result, i) =>
        result.resolvedModule === undefined && moduleLiterals[i].text === MEMLENS_NN ? { ...result, resolvedModule: resolved() } : result,
      );
    return;
  }
  const names = host.resolveModuleNames!.bind(host);
  host.resolveModuleNames = (moduleNames, containingFile, reusedNames, redirectedReference, options, containingSourceFile) =>
    names(moduleNames, containingFile, reusedNames, redirectedReference, options, containingSourceFile).map((result, i) =>
      result === undefined && moduleNames[i] === MEMLENS_NN ? resolved() : result,
    );
}

type LiteralResolver = NonNullable<TS.LanguageServiceHost['resolveModuleNameLiterals']>;

/** What a language service does for a host without its own resolution, one literal at a time. */
function defaultLiteralResolver(ts: Typescript, host: TS.LanguageServiceHost): LiteralResolver {
  const resolutionHost: TS.ModuleResolutionHost = {
    fileExists: (f) => host.fileExists(f),
    readFile: (f) => host.readFile(f),
    directoryExists: host.directoryExists?.bind(host),
    getDirectories: host.getDirectories?.bind(host),
    realpath: host.realpath?.bind(host),
    getCurrentDirectory: () => host.getCurrentDirectory(),
    useCaseSensitiveFileNames: host.useCaseSensitiveFileNames?.(),
  };
  return (moduleLiterals, containingFile, redirectedReference, options, containingSourceFile) =>
    moduleLiterals.map((literal) =>
      ts.resolveModuleName(
        literal.text,
        containingFile,
        options,
        resolutionHost,
        undefined,
        redirectedReference,
        ts.getModeForUsageLocation(containingSourceFile, literal, options),
      ),
    );
}
