// AST-guided edits that add memory markers to a TypeScript model file. Each finds its place with
// ts-morph and returns text edits over the original text (formatting and comments stay as they
// are); each is idempotent: on a file that already has the marker it returns no edit.
import { Node, SyntaxKind, type CallExpression, type SourceFile } from 'ts-morph';
import type { NnAccess } from './nn-import';
import { positionAt, type TextEdit } from './text-edit';

export type RegionMarker = 'checkpoint' | 'offload';

function replace(file: string, text: string, node: Node, newText: string): TextEdit {
  return { file, start: positionAt(text, node.getStart()), end: positionAt(text, node.getEnd()), newText };
}

/** Whether `call` already sits in `marker(() => call)`. */
function isWrapped(call: Node, markerRef: string): boolean {
  const arrow = call.getParent();
  if (!arrow || !Node.isArrowFunction(arrow)) return false;
  const outer = arrow.getParent();
  return !!outer && Node.isCallExpression(outer) && outer.getExpression().getText() === markerRef;
}

function wrapCall(file: string, text: string, call: CallExpression, markerRef: string): TextEdit | null {
  if (isWrapped(call, markerRef)) return null;
  return replace(file, text, call, `${markerRef}(() => ${call.getText()})`);
}

const endsWithMember = (expr: string, attr: string) => expr === attr || expr.endsWith(`.${attr}`);

/**
 * The layer loop: `for (const block of this.h) x = block.forward(x)` → `x = checkpoint(() =>
 * block.forward(x))`, and index loops `this.h[i].forward(x)` likewise.
 */
export function wrapLoopCalls(sf: SourceFile, file: string, nn: NnAccess, attr: string, marker: RegionMarker): TextEdit[] {
  const text = sf.getFullText();
  const ref = nn.ref(marker);
  const edits: TextEdit[] = [];
  for (const loop of sf.getDescendantsOfKind(SyntaxKind.ForOfStatement)) {
    if (!endsWithMember(loop.getExpression().getText(), attr)) continue;
    const init = loop.getInitializer();
    const decl = Node.isVariableDeclarationList(init) ? init.getDeclarations()[0] : undefined;
    const name = decl?.getName();
    if (!name) continue;
    for (const call of loop.getStatement().getDescendantsOfKind(SyntaxKind.CallExpression)) {
      if (call.getExpression().getText() !== `${name}.forward`) continue;
      const e = wrapCall(file, text, call, ref);
      if (e) edits.push(e);
    }
  }
  for (const call of sf.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const callee = call.getExpression();
    if (!Node.isPropertyAccessExpression(callee) || callee.getName() !== 'forward') continue;
    const target = callee.getExpression();
    if (!Node.isElementAccessExpression(target) || !endsWithMember(target.getExpression().getText(), attr)) continue;
    const e = wrapCall(file, text, call, ref);
    if (e) edits.push(e);
  }
  return edits;
}

/** A child module in every layer: `this.attn.forward(...)` → `checkpoint(() => this.attn.forward(...))`. */
export function wrapChildCalls(sf: SourceFile, file: string, nn: NnAccess, child: string, marker: RegionMarker): TextEdit[] {
  const text = sf.getFullText();
  const ref = nn.ref(marker);
  const edits: TextEdit[] = [];
  for (const call of sf.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    if (call.getExpression().getText() !== `this.${child}.forward`) continue;
    const e = wrapCall(file, text, call, ref);
    if (e) edits.push(e);
  }
  return edits;
}

/** `this.<attr> = ...` statements inside constructors. */
function constructorAssignments(sf: SourceFile, attr: string) {
  return sf.getDescendantsOfKind(SyntaxKind.BinaryExpression).filter((b) =>
    b.getOperatorToken().getKind() === SyntaxKind.EqualsToken
    && b.getLeft().getText() === `this.${attr}`
    && !!b.getFirstAncestorByKind(SyntaxKind.Constructor));
}

/** Some layers of a loop: after `this.h = ...` in the constructor, `for (const i of [0, 1]) checkpoint(this.h[i]);`. */
export function markLayers(sf: SourceFile, file: string, nn: NnAccess, attr: string, indices: number[], marker: RegionMarker): TextEdit[] {
  const text = sf.getFullText();
  const edits: TextEdit[] = [];
  const line = `for (const i of [${indices.join(', ')}]) ${nn.ref(marker)}(this.${attr}[i]);`;
  for (const assign of constructorAssignments(sf, attr)) {
    const stmt = assign.getFirstAncestorByKind(SyntaxKind.ExpressionStatement);
    if (!stmt) continue;
    const next = stmt.getNextSibling();
    if (next && next.getText() === line) continue;
    const indent = text.slice(text.lastIndexOf('\n', stmt.getStart()) + 1, stmt.getStart());
    const at = positionAt(text, stmt.getEnd());
    edits.push({ file, start: at, end: at, newText: `\n${indent}${line}` });
  }
  return edits;
}

function quantizeCall(ref: string, inner: string, format: string, groupSize: number | null): string {
  return `${ref}(${inner}, '${format}'${groupSize ? `, { groupSize: ${groupSize} }` : ''})`;
}

/** Wraps the module construction in `quantize(new X(...), 'int8')`, or updates an existing quantize call. */
function quantizeExpression(file: string, text: string, expr: Node, ref: string, format: string, groupSize: number | null): TextEdit | null {
  if (Node.isCallExpression(expr) && expr.getExpression().getText() === ref) {
    const args = expr.getArguments();
    const wanted = quantizeCall(ref, args[0]?.getText() ?? '', format, groupSize);
    return expr.getText() === wanted ? null : replace(file, text, expr, wanted);
  }
  const target = Node.isNewExpression(expr) ? expr : expr.getFirstDescendantByKind(SyntaxKind.NewExpression);
  if (!target) return null;
  const outer = target.getParent();
  if (outer && Node.isCallExpression(outer) && outer.getExpression().getText() === ref) {
    const wanted = quantizeCall(ref, target.getText(), format, groupSize);
    return outer.getText() === wanted ? null : replace(file, text, outer, wanted);
  }
  return replace(file, text, target, quantizeCall(ref, target.getText(), format, groupSize));
}

/** Quantizes the module assigned to `this.<attr>` in the constructor (every instance of it). */
export function quantizeModule(sf: SourceFile, file: string, nn: NnAccess, attr: string, format: string, groupSize: number | null): TextEdit[] {
  const text = sf.getFullText();
  const ref = nn.ref('quantize');
  return constructorAssignments(sf, attr).flatMap((a) => {
    const e = quantizeExpression(file, text, a.getRight(), ref, format, groupSize);
    return e ? [e] : [];
  });
}

/** Quantizes the whole model where entries build it: `model: (cfg) => new GPT2(cfg)`. */
export function quantizeEntries(sf: SourceFile, file: string, nn: NnAccess, format: string, groupSize: number | null): TextEdit[] {
  const text = sf.getFullText();
  const ref = nn.ref('quantize');
  const edits: TextEdit[] = [];
  for (const prop of sf.getDescendantsOfKind(SyntaxKind.PropertyAssignment)) {
    if (prop.getName() !== 'model') continue;
    const fn = prop.getInitializer();
    if (!fn || !Node.isArrowFunction(fn)) continue;
    const body = fn.getBody();
    if (Node.isBlock(body)) continue;
    const e = quantizeExpression(file, text, body, ref, format, groupSize);
    if (e) edits.push(e);
  }
  return edits;
}

/** KV cache storage dtype: `new nn.KVCache({ ... })` gains (or changes) `dtype: 'int8'`. */
export function kvCacheDtype(sf: SourceFile, file: string, dtype: string): TextEdit[] {
  const text = sf.getFullText();
  const edits: TextEdit[] = [];
  for (const ne of sf.getDescendantsOfKind(SyntaxKind.NewExpression)) {
    if (!/(^|\.)KVCache$/.test(ne.getExpression().getText())) continue;
    const obj = ne.getArguments()[0];
    if (!obj || !Node.isObjectLiteralExpression(obj)) continue;
    const existing = obj.getProperty('dtype');
    if (existing && Node.isPropertyAssignment(existing)) {
      const init = existing.getInitializer();
      if (init && init.getText() !== `'${dtype}'`) edits.push(replace(file, text, init, `'${dtype}'`));
      continue;
    }
    const props = obj.getProperties();
    const last = props[props.length - 1];
    const at = positionAt(text, last ? last.getEnd() : obj.getStart() + 1);
    edits.push({ file, start: at, end: at, newText: last ? `, dtype: '${dtype}'` : ` dtype: '${dtype}' ` });
  }
  return edits;
}

/** Fused attention: `impl`/`attention` options set to 'explicit' become 'fused'; calls without one gain `impl: 'fused'`. */
export function fusedAttention(sf: SourceFile, file: string): TextEdit[] {
  const text = sf.getFullText();
  const edits: TextEdit[] = [];
  for (const prop of sf.getDescendantsOfKind(SyntaxKind.PropertyAssignment)) {
    if (prop.getName() !== 'attention' && prop.getName() !== 'impl') continue;
    let init = prop.getInitializer();
    while (init && (Node.isAsExpression(init) || Node.isSatisfiesExpression(init) || Node.isParenthesizedExpression(init))) init = init.getExpression();
    if (init && Node.isStringLiteral(init) && init.getLiteralValue() === 'explicit') edits.push(replace(file, text, init, `'fused'`));
  }
  if (edits.length) return edits;
  for (const call of sf.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    if (!/(^|\.)causalAttention$/.test(call.getExpression().getText())) continue;
    const obj = call.getArguments()[3];
    if (!obj || !Node.isObjectLiteralExpression(obj) || obj.getProperty('impl')) continue;
    const props = obj.getProperties();
    const last = props[props.length - 1];
    if (!last) continue;
    const at = positionAt(text, last.getEnd());
    edits.push({ file, start: at, end: at, newText: `, impl: 'fused'` });
  }
  return edits;
}
