// Static discovery of a TypeScript model file (ts-morph, no code runs, works on unsaved text):
// the entries it exports, the Module classes with their forward methods statement by statement,
// and exported configs, so the editor can offer "Profile" per entry and map figures to lines.
import { Node, Project, SyntaxKind } from 'ts-morph';
import type { ClassDeclaration, Expression, FunctionDeclaration, ObjectLiteralExpression, SourceFile } from 'ts-morph';

/** 1-based, inclusive. */
export interface LineRange {
  startLine: number;
  endLine: number;
}

export interface StatementInfo extends LineRange {
  /** Nesting inside forward's body: 0 for its own statements, 1 inside a loop or if, ... */
  depth: number;
  /** SyntaxKind name (`ExpressionStatement`, `ForOfStatement`, ...). */
  kind: string;
  /** First line of the statement's text, trimmed. */
  text: string;
}

export interface ParamInfo {
  name: string;
  type?: string;
  default?: string;
}

export interface ModuleClassInfo extends LineRange {
  name: string;
  exported: boolean;
  /** The class it extends, as written (`nn.Module`, `Block`). */
  base: string;
  constructorParams: ParamInfo[];
  forward: (LineRange & { params: ParamInfo[]; statements: StatementInfo[] }) | null;
  /** Names of the `static inputs` when declared. */
  staticInputs: string[] | null;
}

export interface ConfigInfo extends LineRange {
  name: string;
  fields: { name: string; value: string; line: number }[];
}

export type EntryKind = 'entry' | 'class' | 'factory';

export interface EntryInfo extends LineRange {
  /** Export name; pass it as `traceFile(file, name)` / `--entry name`. */
  name: string;
  kind: EntryKind;
  description: string | null;
  mode: 'infer' | 'train';
  /** The Module class the entry builds, when visible in the source. */
  modelClass: string | null;
  /** Config as written (`LLAMA3_8B`, `{ ...GPT2_SMALL, checkpoint: false }`), and its name when it is an identifier. */
  config: { text: string; name: string | null } | null;
  /** Input names declared by the entry, when written as an object literal. */
  inputs: string[] | null;
  /** Constructor parameters of the model class. */
  constructorParams: ParamInfo[];
}

export interface Discovery {
  file: string;
  entries: EntryInfo[];
  modules: ModuleClassInfo[];
  configs: ConfigInfo[];
}

const API_MODULE = 'memlens/nn';

/** Discovers `file`; `text` is the editor's (possibly unsaved) content, else the file is read. */
export function discoverEntries(file: string, text?: string): Discovery {
  const project = new Project({ useInMemoryFileSystem: text !== undefined, skipAddingFilesFromTsConfig: true, compilerOptions: { allowJs: false } });
  const source = text !== undefined ? project.createSourceFile(file, text, { overwrite: true }) : project.addSourceFileAtPath(file);
  const names = apiNames(source);
  const moduleClasses = findModuleClasses(source, names);
  const modules = [...moduleClasses.values()].map(describeClass);
  const configs = findConfigs(source);
  const entries: EntryInfo[] = [];

  for (const statement of source.getVariableStatements()) {
    if (!statement.isExported()) continue;
    for (const decl of statement.getDeclarations()) {
      const init = decl.getInitializer();
      if (!init || !Node.isCallExpression(init) || !isEntryCall(init.getExpression(), names)) continue;
      const spec = init.getArguments()[0];
      if (!spec || !Node.isObjectLiteralExpression(spec)) continue;
      const modelClass = newExpressionClass(property(spec, 'model'));
      entries.push({
        name: decl.getName(),
        kind: 'entry',
        ...range(statement),
        description: stringValue(property(spec, 'description')),
        mode: stringValue(property(spec, 'mode')) === 'train' ? 'train' : 'infer',
        modelClass,
        config: configOf(property(spec, 'config')),
        inputs: inputNames(property(spec, 'inputs')),
        constructorParams: modelClass ? moduleClasses.get(modelClass)?.getConstructors()[0]?.getParameters().map(paramInfo) ?? [] : [],
      });
    }
  }
  for (const [name, cls] of moduleClasses) {
    const info = modules.find((m) => m.name === name);
    if (!cls.isExported() || !info?.staticInputs) continue;
    const config = cls.getStaticProperty('config');
    const configInit = config && Node.isPropertyDeclaration(config) ? config.getInitializer() : undefined;
    entries.push({
      name, kind: 'class', ...range(cls), description: docText(cls), mode: 'infer', modelClass: name,
      config: configOf(configInit), inputs: info.staticInputs, constructorParams: info.constructorParams,
    });
  }
  for (const fn of source.getFunctions()) {
    if (!fn.isExported() || !fn.getName()) continue;
    const built = factoryClass(fn, moduleClasses);
    if (!built) continue;
    const info = modules.find((m) => m.name === built);
    entries.push({
      name: fn.getName() as string, kind: 'factory', ...range(fn), description: docText(fn), mode: 'infer', modelClass: built,
      config: null, inputs: info?.staticInputs ?? null, constructorParams: info?.constructorParams ?? [],
    });
  }
  entries.sort((a, b) => a.startLine - b.startLine);
  return { file, entries, modules, configs };
}

/** Local names under which the file imports the model API: namespace (`nn`) and named imports. */
function apiNames(source: SourceFile): { namespaces: Set<string>; named: Map<string, string> } {
  const namespaces = new Set<string>();
  const named = new Map<string, string>();
  for (const imp of source.getImportDeclarations()) {
    if (imp.getModuleSpecifierValue() !== API_MODULE) continue;
    const ns = imp.getNamespaceImport();
    if (ns) namespaces.add(ns.getText());
    for (const n of imp.getNamedImports()) named.set(n.getAliasNode()?.getText() ?? n.getName(), n.getName());
  }
  return { namespaces, named };
}

function refersTo(expr: string, apiName: string, names: ReturnType<typeof apiNames>): boolean {
  const dot = expr.lastIndexOf('.');
  if (dot >= 0) return names.namespaces.has(expr.slice(0, dot)) && expr.slice(dot + 1) === apiName;
  return names.named.get(expr) === apiName;
}

function isEntryCall(callee: Expression, names: ReturnType<typeof apiNames>): boolean {
  return refersTo(callee.getText(), 'entry', names);
}

/** Classes extending the API's Module, directly or through other classes of this file. */
function findModuleClasses(source: SourceFile, names: ReturnType<typeof apiNames>): Map<string, ClassDeclaration> {
  const classes = source.getClasses().filter((c) => c.getName());
  const found = new Map<string, ClassDeclaration>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of classes) {
      const name = c.getName() as string;
      const base = c.getExtends()?.getExpression().getText();
      if (found.has(name) || !base) continue;
      const sequentialLike = ['Module', 'Sequential'].some((b) => refersTo(base, b, names));
      if (sequentialLike || found.has(base)) {
        found.set(name, c);
        grew = true;
      }
    }
  }
  return found;
}

function describeClass(c: ClassDeclaration): ModuleClassInfo {
  const forward = c.getInstanceMethod('forward');
  const inputs = c.getStaticProperty('inputs');
  const inputsInit = inputs && Node.isPropertyDeclaration(inputs) ? inputs.getInitializer() : undefined;
  return {
    name: c.getName() as string,
    exported: c.isExported(),
    base: c.getExtends()?.getExpression().getText() ?? '',
    ...range(c),
    constructorParams: c.getConstructors()[0]?.getParameters().map(paramInfo) ?? [],
    forward: forward
      ? { ...range(forward), params: forward.getParameters().map(paramInfo), statements: statementsOf(forward.getStatements(), 0) }
      : null,
    staticInputs: inputs ? inputNames(inputsInit) ?? [] : null,
  };
}

function statementsOf(statements: Node[], depth: number): StatementInfo[] {
  const out: StatementInfo[] = [];
  for (const s of statements) {
    out.push({ ...range(s), depth, kind: s.getKindName(), text: s.getText().split('\n')[0].trim() });
    out.push(...statementsOf(childStatements(s), depth + 1));
  }
  return out;
}

/** Statements nested directly in `node` (loop and if bodies, blocks, arrow-function bodies). */
function childStatements(node: Node): Node[] {
  const out: Node[] = [];
  node.forEachChild((child) => {
    if (Node.isBlock(child)) out.push(...child.getStatements());
    else if (Node.isStatement(child)) out.push(child);
    else out.push(...childStatements(child));
  });
  return out;
}

function findConfigs(source: SourceFile): ConfigInfo[] {
  const out: ConfigInfo[] = [];
  for (const statement of source.getVariableStatements()) {
    if (!statement.isExported()) continue;
    for (const decl of statement.getDeclarations()) {
      const init = decl.getInitializer();
      if (!init || !Node.isObjectLiteralExpression(init)) continue;
      out.push({ name: decl.getName(), ...range(statement), fields: fieldsOf(init) });
    }
  }
  return out;
}

function fieldsOf(obj: ObjectLiteralExpression): ConfigInfo['fields'] {
  const out: ConfigInfo['fields'] = [];
  for (const p of obj.getProperties()) {
    if (Node.isPropertyAssignment(p)) out.push({ name: p.getName(), value: p.getInitializer()?.getText() ?? '', line: p.getStartLineNumber() });
    else if (Node.isSpreadAssignment(p)) out.push({ name: '...', value: p.getExpression().getText(), line: p.getStartLineNumber() });
  }
  return out;
}

function property(obj: ObjectLiteralExpression, name: string): Node | undefined {
  const p = obj.getProperty(name);
  if (!p) return undefined;
  if (Node.isPropertyAssignment(p)) return p.getInitializer();
  if (Node.isShorthandPropertyAssignment(p)) return p.getNameNode();
  if (Node.isMethodDeclaration(p)) return p;
  return undefined;
}

function stringValue(n: Node | undefined): string | null {
  return n && (Node.isStringLiteral(n) || Node.isNoSubstitutionTemplateLiteral(n)) ? n.getLiteralText() : null;
}

function configOf(n: Node | undefined): EntryInfo['config'] {
  if (!n) return null;
  return { text: n.getText(), name: Node.isIdentifier(n) ? n.getText() : null };
}

/** Class of the first `new X(...)` in a `model` property or factory body. */
function newExpressionClass(n: Node | undefined): string | null {
  if (!n) return null;
  const created = Node.isNewExpression(n) ? n : n.getFirstDescendantByKind(SyntaxKind.NewExpression);
  return created ? created.getExpression().getText() : null;
}

/** Input names of an inputs object literal, or of the object an arrow function returns. */
function inputNames(n: Node | undefined): string[] | null {
  if (!n) return null;
  let obj: Node | undefined = n;
  if (Node.isArrowFunction(n) || Node.isFunctionExpression(n)) {
    const body = n.getBody();
    obj = Node.isBlock(body) ? body.getFirstDescendantByKind(SyntaxKind.ReturnStatement)?.getExpression() : body;
  }
  while (obj && Node.isParenthesizedExpression(obj)) obj = obj.getExpression();
  if (!obj || !Node.isObjectLiteralExpression(obj)) return null;
  return obj.getProperties().flatMap((p) => (Node.isPropertyAssignment(p) || Node.isShorthandPropertyAssignment(p) ? [p.getName()] : []));
}

function factoryClass(fn: FunctionDeclaration, classes: Map<string, ClassDeclaration>): string | null {
  const declared = fn.getReturnTypeNode()?.getText();
  if (declared && classes.has(declared)) return declared;
  for (const ret of fn.getDescendantsOfKind(SyntaxKind.ReturnStatement)) {
    const cls = newExpressionClass(ret.getExpression());
    if (cls && classes.has(cls)) return cls;
  }
  return null;
}

function paramInfo(p: { getName(): string; getTypeNode(): Node | undefined; getInitializer(): Node | undefined }): ParamInfo {
  const type = p.getTypeNode()?.getText();
  const init = p.getInitializer()?.getText();
  return { name: p.getName(), ...(type ? { type } : {}), ...(init ? { default: init } : {}) };
}

function docText(n: { getJsDocs(): { getDescription(): string }[] }): string | null {
  const doc = n.getJsDocs()[0]?.getDescription().trim();
  return doc ? doc : null;
}

function range(n: Node): LineRange {
  return { startLine: n.getStartLineNumber(), endLine: n.getEndLineNumber() };
}
