// Static discovery of PyTorch models in a Python file: nn.Module classes, the submodules their
// __init__ assigns, what their forward calls and computes, model-building functions, and example
// inputs from `if __name__ == '__main__':` blocks. Works on unsaved text; never runs the code.
//
// When inputs cannot be inferred, users declare them with `# memlens:` comments (see
// directives.ts):
//   # memlens: entry build_model
//   # memlens: input x = (batch, 3, 224, 224) float32
import type { DType, Dim } from '../../extension/engine/graph';
import { parseDirective, dtypeFromName } from './directives';
import type { Directive, InputSpec } from './directives';
import { parsePython } from './parser';
import type { SyntaxNode } from './parser';
import { opsOfCall, opsOfOperator, SUBSCRIPT_OPS } from './op-kinds';

/** Lines are 1-based, columns 0-based (editor convention for text edits). */
export interface Span {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

export interface SubmoduleElement {
  line: number;
  constructor: string;
}

export interface Submodule {
  attribute: string;
  line: number;
  /** Callee text, e.g. `nn.Conv2d`, `nn.ModuleList`, `self._make_layer`. */
  constructor: string;
  kind: 'layer' | 'list' | 'sequential' | 'dict' | 'other';
  /** Element lines of ModuleList/Sequential, including those of a list comprehension. */
  elements: SubmoduleElement[];
}

/** A submodule call in a forward, e.g. `self.conv1(x)`; helper methods are followed in place. */
export interface ModuleCall {
  attribute: string;
  line: number;
  span: Span;
  /** The whole statement containing the call. */
  statement: Span;
  /** Set when the call is on a loop variable over `self.<attribute>`. */
  loop?: Span;
}

/** ONNX op kinds an expression in forward produces, in source order. */
export interface OpSite {
  line: number;
  ops: readonly string[];
  text: string;
}

export interface ForwardInfo {
  /** The `def forward` line. */
  line: number;
  span: Span;
  /** Top-level statements of the body (helper methods not inlined). */
  statements: Span[];
  calls: ModuleCall[];
  ops: OpSite[];
  parameters: string[];
}

export interface ModuleClass {
  name: string;
  line: number;
  span: Span;
  bases: string[];
  submodules: Submodule[];
  forward: ForwardInfo | null;
  methods: string[];
  /** Constructor parameters without defaults (besides self). */
  requiredArgs: string[];
  directives: Directive[];
}

export interface BuilderFunction {
  name: string;
  line: number;
  span: Span;
  requiredArgs: string[];
  /** Callee text of what it returns when that is a call (`ResNet`, `resnet18`). */
  returns: string | null;
  directives: Directive[];
}

export interface MainExample {
  line: number;
  /** The model construction: `model = build_model()`. */
  model: { variable: string; expression: string; line: number } | null;
  /** Source of the main block's statements before the model construction, dedented. */
  prelude: string;
  inputs: InputSpec[];
}

export interface PythonDiscovery {
  classes: ModuleClass[];
  functions: BuilderFunction[];
  main: MainExample | null;
  /** Directives not attached to a class or function. */
  fileDirectives: Directive[];
  syntaxErrors: Array<{ line: number; column: number }>;
}

const BATCH_NAMES = new Set(['b', 'bs', 'batch', 'batch_size', 'batchsize', 'n_batch', 'nbatch']);
const SEQ_NAMES = new Set(['t', 'seq', 'seq_len', 'seqlen', 'sequence_length', 'block_size', 'n_ctx', 'context_length', 'max_len', 'l']);
const TENSOR_MAKERS = new Set(['randn', 'rand', 'zeros', 'ones', 'empty', 'randint', 'full']);
const BUILDER_NAME = /^(build|make|create|get|new)_?(model|net|network)?/i;

export async function discoverPython(text: string): Promise<PythonDiscovery> {
  const tree = await parsePython(text);
  try {
    return discoverTree(tree.rootNode, text);
  } finally {
    tree.delete();
  }
}

function spanOf(n: SyntaxNode): Span {
  return { startLine: n.startPosition.row + 1, startColumn: n.startPosition.column, endLine: n.endPosition.row + 1, endColumn: n.endPosition.column };
}

const line = (n: SyntaxNode) => n.startPosition.row + 1;

function discoverTree(root: SyntaxNode, text: string): PythonDiscovery {
  const aliases = collectAliases(root);
  const constants = collectIntConstants(root.namedChildren);
  const { attached, fileDirectives } = collectDirectives(root);
  const syntaxErrors = root.hasError ? syntaxErrorsOf(root) : [];

  const classNodes: SyntaxNode[] = [];
  const functionNodes: SyntaxNode[] = [];
  let mainNode: SyntaxNode | null = null;
  for (const child of topLevel(root)) {
    const def = child.type === 'decorated_definition' ? child.childForFieldName('definition') : child;
    if (!def) continue;
    if (def.type === 'class_definition') classNodes.push(def);
    else if (def.type === 'function_definition') functionNodes.push(def);
    else if (def.type === 'if_statement' && isMainGuard(def)) mainNode = def;
  }

  // A class is a module when a base resolves to something ending in Module, or to another module class.
  const moduleNames = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of classNodes) {
      const name = c.childForFieldName('name')?.text ?? '';
      if (moduleNames.has(name)) continue;
      if (basesOf(c).some((b) => isModuleBase(b, aliases, moduleNames))) {
        moduleNames.add(name);
        grew = true;
      }
    }
  }

  const classes = classNodes
    .filter((c) => moduleNames.has(c.childForFieldName('name')?.text ?? ''))
    .map((c) => describeClass(c, attached.get(c.startIndex) ?? attached.get(c.parent?.startIndex ?? -1) ?? []));
  const functions = functionNodes.map((f) => describeFunction(f, attached.get(f.startIndex) ?? attached.get(f.parent?.startIndex ?? -1) ?? []));
  const main = mainNode ? describeMain(mainNode, text, constants) : null;
  return { classes, functions, main, fileDirectives, syntaxErrors };
}

/** Top-level statements; those swallowed by an ERROR node (a typo while editing) are still seen. */
function topLevel(root: SyntaxNode): SyntaxNode[] {
  return root.namedChildren.flatMap((n) => (n.type === 'ERROR' ? topLevel(n) : [n]));
}

/** Missing tokens where tree-sitter inserted them, else the end of each innermost ERROR node,
 * which is where the parse went wrong (Python reports the same line). */
function syntaxErrorsOf(root: SyntaxNode): Array<{ line: number; column: number }> {
  const out: Array<{ line: number; column: number }> = [];
  const visit = (n: SyntaxNode): void => {
    if (n.isMissing) out.push({ line: line(n), column: n.startPosition.column + 1 });
    const inner = n.children.filter((c): c is SyntaxNode => c !== null && (c.hasError || c.isMissing));
    if (n.type === 'ERROR' && !inner.some((c) => c.type === 'ERROR' || c.hasError)) {
      out.push({ line: n.endPosition.row + 1, column: n.endPosition.column + 1 });
    }
    inner.forEach(visit);
  };
  visit(root);
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** `from torch.nn import Module as M`, `import torch.nn as nn`, `Base = nn.Module`. */
function collectAliases(root: SyntaxNode): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const n of root.namedChildren) {
    if (n.type === 'import_from_statement') {
      const mod = n.childForFieldName('module_name')?.text ?? '';
      for (const a of n.namedChildren) {
        if (a.type === 'aliased_import') {
          const name = a.childForFieldName('name')?.text ?? '';
          const alias = a.childForFieldName('alias')?.text ?? '';
          aliases.set(alias, `${mod}.${name}`);
        }
      }
    } else if (n.type === 'import_statement') {
      for (const a of n.namedChildren) {
        if (a.type === 'aliased_import') aliases.set(a.childForFieldName('alias')?.text ?? '', a.childForFieldName('name')?.text ?? '');
      }
    } else if (n.type === 'expression_statement' && n.firstNamedChild?.type === 'assignment') {
      const asg = n.firstNamedChild;
      const left = asg.childForFieldName('left');
      const right = asg.childForFieldName('right');
      if (left?.type === 'identifier' && right && (right.type === 'attribute' || right.type === 'identifier')) aliases.set(left.text, right.text);
    }
  }
  return aliases;
}

function resolveAlias(name: string, aliases: Map<string, string>): string {
  const seen = new Set<string>();
  let cur = name;
  while (!seen.has(cur)) {
    seen.add(cur);
    const head = cur.split('.')[0];
    const target = aliases.get(head);
    if (target === undefined) break;
    cur = target + cur.slice(head.length);
  }
  return cur;
}

function isModuleBase(base: string, aliases: Map<string, string>, moduleClasses: Set<string>): boolean {
  if (moduleClasses.has(base)) return true;
  const resolved = resolveAlias(base, aliases);
  return /Module$/.test(base) || /Module$/.test(resolved) || moduleClasses.has(resolved);
}

function basesOf(c: SyntaxNode): string[] {
  const supers = c.childForFieldName('superclasses');
  if (!supers) return [];
  return supers.namedChildren.filter((a) => a.type !== 'keyword_argument').map((a) => a.text);
}

/** Top-level and main-block integer constants (`B, T = 4, 64`, `batch_size = 8`), for example shapes. */
function collectIntConstants(statements: SyntaxNode[], into = new Map<string, number>()): Map<string, number> {
  for (const s of statements) {
    const asg = s.type === 'expression_statement' ? s.firstNamedChild : null;
    if (asg?.type !== 'assignment') continue;
    const left = asg.childForFieldName('left');
    const right = asg.childForFieldName('right');
    if (!left || !right) continue;
    if (left.type === 'identifier' && right.type === 'integer') into.set(left.text, Number(right.text));
    if ((left.type === 'pattern_list' || left.type === 'tuple_pattern') && (right.type === 'expression_list' || right.type === 'tuple')) {
      const names = left.namedChildren;
      const values = right.namedChildren;
      names.forEach((n, i) => {
        if (n.type === 'identifier' && values[i]?.type === 'integer') into.set(n.text, Number(values[i].text));
      });
    }
  }
  return into;
}

function collectDirectives(root: SyntaxNode): { attached: Map<number, Directive[]>; fileDirectives: Directive[] } {
  const attached = new Map<number, Directive[]>();
  const fileDirectives: Directive[] = [];
  const children = root.namedChildren;
  children.forEach((n, i) => {
    if (n.type !== 'comment') return;
    const d = parseDirective(n.text, line(n));
    if (!d) return;
    let j = i + 1;
    while (j < children.length && children[j].type === 'comment') j++;
    const next = children[j];
    const isDef = next && ['class_definition', 'function_definition', 'decorated_definition'].includes(next.type);
    // Attached only when nothing but comments lies between the directive and the definition.
    if (isDef && line(next) - line(children[j - 1]) <= 1) {
      const list = attached.get(next.startIndex) ?? [];
      list.push(d);
      attached.set(next.startIndex, list);
    } else {
      fileDirectives.push(d);
    }
  });
  return { attached, fileDirectives };
}

function isMainGuard(n: SyntaxNode): boolean {
  const cond = n.childForFieldName('condition')?.text.replace(/\s+/g, '') ?? '';
  return /^(__name__==['"]__main__['"]|['"]__main__['"]==__name__)$/.test(cond);
}

function requiredParams(fn: SyntaxNode, skipSelf: boolean): string[] {
  const params = fn.childForFieldName('parameters')?.namedChildren ?? [];
  const names: string[] = [];
  for (const p of params) {
    // typed_parameter wraps `*args: T` too; only a plain name is a required argument.
    const first = p.type === 'typed_parameter' ? p.namedChildren[0] : p;
    if (first?.type === 'identifier') names.push(first.text);
  }
  return skipSelf ? names.slice(1) : names;
}

function paramNames(fn: SyntaxNode): string[] {
  const params = fn.childForFieldName('parameters')?.namedChildren ?? [];
  return params
    .map((p) => (p.type === 'identifier' ? p.text : (p.childForFieldName('name') ?? p.namedChildren[0])?.text ?? ''))
    .filter((n) => n && n !== 'self');
}

function methodsOf(c: SyntaxNode): Map<string, SyntaxNode> {
  const out = new Map<string, SyntaxNode>();
  for (const s of c.childForFieldName('body')?.namedChildren ?? []) {
    const def = s.type === 'decorated_definition' ? s.childForFieldName('definition') : s;
    if (def?.type === 'function_definition') out.set(def.childForFieldName('name')?.text ?? '', def);
  }
  return out;
}

function describeClass(c: SyntaxNode, directives: Directive[]): ModuleClass {
  const methods = methodsOf(c);
  const init = methods.get('__init__');
  const submodules = init ? describeInit(init) : [];
  const forwardNode = methods.get('forward');
  const subNames = new Set(submodules.map((s) => s.attribute));
  return {
    name: c.childForFieldName('name')?.text ?? '',
    line: line(c),
    span: spanOf(c),
    bases: basesOf(c),
    submodules,
    forward: forwardNode ? describeForward(forwardNode, methods, subNames) : null,
    methods: [...methods.keys()],
    requiredArgs: init ? requiredParams(init, true) : [],
    directives,
  };
}

function calleeText(call: SyntaxNode): string {
  return call.childForFieldName('function')?.text ?? '';
}

function describeInit(init: SyntaxNode): Submodule[] {
  const subs: Submodule[] = [];
  for (const asg of init.descendantsOfType('assignment')) {
    const left = asg.childForFieldName('left');
    const right = asg.childForFieldName('right');
    if (left?.type !== 'attribute' || left.childForFieldName('object')?.text !== 'self' || right?.type !== 'call') continue;
    const callee = calleeText(right);
    const last = callee.split('.').pop() ?? '';
    const kind: Submodule['kind'] = last === 'ModuleList' ? 'list' : last === 'Sequential' ? 'sequential' : last === 'ModuleDict' ? 'dict'
      : /^[A-Z]/.test(last) ? 'layer' : 'other';
    const elements: SubmoduleElement[] = [];
    if (kind === 'list' || kind === 'sequential' || kind === 'dict') {
      for (const inner of right.childForFieldName('arguments')?.descendantsOfType('call') ?? []) {
        const innerCallee = calleeText(inner);
        if (/^[A-Z]/.test(innerCallee.split('.').pop() ?? '') && !['OrderedDict'].includes(innerCallee)) elements.push({ line: line(inner), constructor: innerCallee });
      }
    }
    subs.push({ attribute: left.childForFieldName('attribute')?.text ?? '', line: line(asg), constructor: callee, kind, elements });
  }
  return subs;
}

function describeForward(fwd: SyntaxNode, methods: Map<string, SyntaxNode>, submodules: Set<string>): ForwardInfo {
  const calls: ModuleCall[] = [];
  const ops: OpSite[] = [];
  walkBody(fwd, methods, submodules, calls, ops, new Set(['forward']));
  const body = fwd.childForFieldName('body');
  return {
    line: line(fwd),
    span: spanOf(fwd),
    statements: (body?.namedChildren ?? []).filter((s) => s.type !== 'comment').map(spanOf),
    calls,
    ops,
    parameters: paramNames(fwd),
  };
}

function statementOf(n: SyntaxNode): SyntaxNode {
  let cur = n;
  while (cur.parent && cur.parent.type !== 'block' && cur.parent.type !== 'module') cur = cur.parent;
  return cur;
}

/** Walk of a method body in evaluation order (arguments before the call that takes them): module
 * calls and op sites, helper methods inlined at their call. */
function walkBody(fn: SyntaxNode, methods: Map<string, SyntaxNode>, submodules: Set<string>, calls: ModuleCall[], ops: OpSite[], visiting: Set<string>): void {
  const loopVars = new Map<string, { attribute: string; loop: SyntaxNode }>();
  const visit = (n: SyntaxNode): void => {
    if (n.type === 'for_statement') {
      const attr = loopSource(n.childForFieldName('right'));
      const left = n.childForFieldName('left');
      if (attr && left) {
        const names = left.type === 'identifier' ? [left] : left.descendantsOfType('identifier');
        // `for i, blk in enumerate(self.blocks)`: the last name is the element.
        const el = names[names.length - 1];
        if (el) loopVars.set(el.text, { attribute: attr, loop: n });
      }
    }
    if (n.type === 'call') {
      const fn = n.childForFieldName('function');
      const target = fn ? callTarget(fn, loopVars) : null;
      if (target && methods.has(target.attribute) && !submodules.has(target.attribute) && !target.loop) {
        for (const a of n.childForFieldName('arguments')?.namedChildren ?? []) visit(a);
        if (!visiting.has(target.attribute)) {
          visiting.add(target.attribute);
          walkBody(methods.get(target.attribute) as SyntaxNode, methods, submodules, calls, ops, visiting);
          visiting.delete(target.attribute);
        }
        return;
      }
      for (const c of n.namedChildren) visit(c);
      if (target) {
        calls.push({ attribute: target.attribute, line: line(n), span: spanOf(n), statement: spanOf(statementOf(n)), ...(target.loop ? { loop: spanOf(target.loop) } : {}) });
      } else {
        const kinds = opsOfCall(fn?.text ?? '');
        if (kinds.length) ops.push({ line: line(n), ops: kinds, text: n.text });
      }
      return;
    }
    for (const c of n.namedChildren) visit(c);
    if (n.type === 'binary_operator' || n.type === 'augmented_assignment') {
      const kinds = opsOfOperator(n.childForFieldName('operator')?.text ?? '');
      if (kinds.length) ops.push({ line: line(n), ops: kinds, text: n.text });
    } else if (n.type === 'subscript') {
      ops.push({ line: line(n), ops: SUBSCRIPT_OPS, text: n.text });
    }
  };
  const body = fn.childForFieldName('body');
  if (body) visit(body);
}

/** `self.blocks`, `enumerate(self.blocks)`, `zip(self.blocks, ...)` -> `blocks`. */
function loopSource(right: SyntaxNode | null): string | null {
  if (!right) return null;
  if (right.type === 'attribute' && right.childForFieldName('object')?.text === 'self') return right.childForFieldName('attribute')?.text ?? null;
  if (right.type === 'call' && ['enumerate', 'zip', 'reversed'].includes(calleeText(right))) {
    const first = right.childForFieldName('arguments')?.namedChildren[0] ?? null;
    return loopSource(first);
  }
  return null;
}

function callTarget(fn: SyntaxNode, loopVars: Map<string, { attribute: string; loop: SyntaxNode }>): { attribute: string; loop?: SyntaxNode } | null {
  if (fn.type === 'attribute' && fn.childForFieldName('object')?.text === 'self') return { attribute: fn.childForFieldName('attribute')?.text ?? '' };
  if (fn.type === 'subscript') {
    const value = fn.childForFieldName('value');
    if (value?.type === 'attribute' && value.childForFieldName('object')?.text === 'self') return { attribute: value.childForFieldName('attribute')?.text ?? '' };
  }
  if (fn.type === 'identifier' && loopVars.has(fn.text)) {
    const v = loopVars.get(fn.text) as { attribute: string; loop: SyntaxNode };
    return { attribute: v.attribute, loop: v.loop };
  }
  return null;
}

function describeFunction(f: SyntaxNode, directives: Directive[]): BuilderFunction {
  let returns: string | null = null;
  for (const r of f.descendantsOfType('return_statement')) {
    const value = r.namedChildren[0];
    // `return Model(...)` or `return Model(...), inputs`
    const first = value?.type === 'tuple' || value?.type === 'expression_list' ? value.namedChildren[0] : value;
    const call = first?.type === 'call' ? first : null;
    if (call) {
      returns = calleeText(call);
      break;
    }
  }
  return { name: f.childForFieldName('name')?.text ?? '', line: line(f), span: spanOf(f), requiredArgs: requiredParams(f, false), returns, directives };
}

export function isBuilderName(name: string): boolean {
  return BUILDER_NAME.test(name);
}

function describeMain(ifNode: SyntaxNode, text: string, topConstants: Map<string, number>): MainExample {
  const body = ifNode.childForFieldName('consequence');
  const statements = body?.namedChildren ?? [];
  const constants = collectIntConstants(statements, new Map(topConstants));
  const tensors = new Map<string, InputSpec>();
  const assigned: Array<{ variable: string; expression: string; line: number; node: SyntaxNode }> = [];
  for (const s of statements) {
    const asg = s.type === 'expression_statement' ? s.firstNamedChild : null;
    if (asg?.type !== 'assignment') continue;
    const left = asg.childForFieldName('left');
    const right = asg.childForFieldName('right');
    if (left?.type !== 'identifier' || right?.type !== 'call') continue;
    const spec = exampleTensor(left.text, right, constants);
    if (spec) tensors.set(left.text, spec);
    else assigned.push({ variable: left.text, expression: stripModelChain(right).text, line: line(s), node: s });
  }
  // The model is the variable later called with tensors (`model(x)`), else the first construction.
  let model: (typeof assigned)[number] | undefined;
  let callArgs: string[] = [];
  for (const call of body?.descendantsOfType('call') ?? []) {
    const fn = call.childForFieldName('function');
    const name = fn?.type === 'identifier' ? fn.text : fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'forward' ? fn.childForFieldName('object')?.text : undefined;
    const found = assigned.find((a) => a.variable === name);
    if (!found) continue;
    const args = (call.childForFieldName('arguments')?.namedChildren ?? []).map((a) => (a.type === 'keyword_argument' ? a.childForFieldName('value')?.text ?? '' : a.text));
    if (args.some((a) => tensors.has(a))) {
      model = found;
      callArgs = args;
      break;
    }
  }
  model ??= assigned.find((a) => /^[A-Za-z_][\w.]*\(/.test(a.expression));
  const inputs = callArgs.filter((a) => tensors.has(a)).map((a) => tensors.get(a) as InputSpec);
  const lines = text.split('\n');
  let prelude = '';
  if (model) {
    const before = statements.filter((s) => s.endPosition.row < model.node.startPosition.row);
    const indent = body?.startPosition.column ?? 4;
    prelude = before.flatMap((s) => lines.slice(s.startPosition.row, s.endPosition.row + 1)).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n');
  }
  return {
    line: line(ifNode),
    model: model ? { variable: model.variable, expression: model.expression, line: model.line } : null,
    prelude,
    inputs: inputs.length ? inputs : [...tensors.values()],
  };
}

/** `GPT(cfg).to(device).eval()` -> `GPT(cfg)`: device moves and mode switches are not the model. */
function stripModelChain(call: SyntaxNode): SyntaxNode {
  let cur = call;
  for (;;) {
    const fn = cur.childForFieldName('function');
    const obj = fn?.type === 'attribute' ? fn.childForFieldName('object') : null;
    const method = fn?.type === 'attribute' ? fn.childForFieldName('attribute')?.text : undefined;
    if (obj?.type === 'call' && method && ['to', 'eval', 'train', 'cuda', 'cpu', 'float', 'half', 'bfloat16', 'requires_grad_'].includes(method)) cur = obj;
    else return cur;
  }
}

/** `torch.randn(1, 3, 224, 224)`, `torch.randint(0, V, (B, T))`: an example input's shape and dtype. */
function exampleTensor(name: string, call: SyntaxNode, constants: Map<string, number>): InputSpec | null {
  const callee = calleeText(call);
  const maker = callee.split('.').pop() ?? '';
  if (!TENSOR_MAKERS.has(maker) || !/^(torch\.)?\w+$/.test(callee)) return null;
  const args = call.childForFieldName('arguments')?.namedChildren ?? [];
  const positional = args.filter((a) => a.type !== 'keyword_argument');
  const keyword = new Map(args.filter((a) => a.type === 'keyword_argument').map((a) => [a.childForFieldName('name')?.text ?? '', a.childForFieldName('value') as SyntaxNode]));
  let dimNodes: SyntaxNode[];
  if (maker === 'randint') {
    const size = keyword.get('size') ?? positional.find((a) => a.type === 'tuple' || a.type === 'list');
    dimNodes = size ? size.namedChildren : [];
  } else if (keyword.has('size')) {
    dimNodes = (keyword.get('size') as SyntaxNode).namedChildren;
  } else if (positional.length === 1 && (positional[0].type === 'tuple' || positional[0].type === 'list')) {
    dimNodes = positional[0].namedChildren;
  } else {
    dimNodes = maker === 'full' ? positional.slice(0, 1).flatMap((p) => p.namedChildren) : positional;
  }
  if (dimNodes.length === 0) return null;
  const dtypeArg = keyword.get('dtype')?.text;
  const dtype: DType = (dtypeArg ? dtypeFromName(dtypeArg) : undefined) ?? (maker === 'randint' ? 'int64' : 'float32');
  const shape: Dim[] = dimNodes.map((d, i) => exampleDim(d, i, dimNodes.length, dtype, constants));
  return { name, shape, dtype, line: line(call) };
}

/** The leading dim is the batch; a named sequence dim, or the second dim of token ids, is the sequence. */
function exampleDim(d: SyntaxNode, index: number, rank: number, dtype: DType, constants: Map<string, number>): Dim {
  const leaf = d.type === 'attribute' ? d.childForFieldName('attribute')?.text ?? d.text : d.text;
  const lower = leaf.toLowerCase();
  if (index === 0) return 'batch';
  if (SEQ_NAMES.has(lower) && index > 0) return 'seq';
  if (BATCH_NAMES.has(lower)) return 'batch';
  if (index === 1 && rank === 2 && (dtype === 'int64' || dtype === 'int32')) return 'seq';
  if (d.type === 'integer') return Number(d.text);
  if (constants.has(d.text)) return constants.get(d.text) as number;
  return leaf;
}
