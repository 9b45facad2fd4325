// Memory fixes for PyTorch source as text edits, guided by the tree-sitter parse. Each rewrite
// takes the file's text and the 1-based line a suggestion points at, and returns the edits and
// a description, or null when it does not apply there. Applying a rewrite and asking again
// gives null: every rewrite recognises its own result, so applying twice changes nothing.
import { parsePython } from './parser';
import type { SyntaxNode } from './parser';
import {
  applyEdits, endOf, enclosing, ensureImport, functionalAlias, indentUnit, lineIndent, replaceNode, startOf, statementAt,
} from './text-edits';
import type { TextEdit } from './text-edits';

export interface Rewrite {
  description: string;
  edits: TextEdit[];
}

export type RewriteKind = 'checkpoint' | 'offload-activations' | 'sdpa' | 'quantize-dynamic' | 'autocast-bf16' | 'chunked-cross-entropy';

export type PythonRewrite = (text: string, line: number) => Promise<Rewrite | null>;

async function withTree<T>(text: string, fn: (root: SyntaxNode) => T): Promise<T> {
  const tree = await parsePython(text);
  try {
    return fn(tree.rootNode);
  } finally {
    tree.delete();
  }
}

const nonNull = (edits: Array<TextEdit | null>): TextEdit[] => edits.filter((e): e is TextEdit => e !== null);

// ---------------------------------------------------------------- activation checkpointing

/** A call of a submodule: `self.block(x)`, `self.blocks[i](x)`, or `blk(x)` in `for blk in self.blocks`. */
function isModuleCall(call: SyntaxNode): boolean {
  const fn = call.childForFieldName('function');
  if (!fn) return false;
  if (fn.type === 'attribute') return fn.childForFieldName('object')?.text === 'self' && !isMethodOfClass(call, fn.childForFieldName('attribute')?.text ?? '');
  if (fn.type === 'subscript') {
    const v = fn.childForFieldName('value');
    return v?.type === 'attribute' && v.childForFieldName('object')?.text === 'self';
  }
  if (fn.type === 'identifier') {
    for (let loop = enclosing(call, 'for_statement'); loop; loop = enclosing(loop, 'for_statement')) {
      const right = loop.childForFieldName('right')?.text ?? '';
      const left = loop.childForFieldName('left');
      const names = left ? (left.type === 'identifier' ? [left.text] : left.descendantsOfType('identifier').map((n) => n.text)) : [];
      if (names.includes(fn.text) && /\bself\.\w+/.test(right)) return true;
    }
  }
  return false;
}

function isMethodOfClass(n: SyntaxNode, name: string): boolean {
  const cls = enclosing(n, 'class_definition');
  return (cls?.childForFieldName('body')?.namedChildren ?? []).some((s) => {
    const def = s.type === 'decorated_definition' ? s.childForFieldName('definition') : s;
    return def?.type === 'function_definition' && def.childForFieldName('name')?.text === name;
  });
}

/** The outermost submodule call in a statement (`self.attn(self.ln1(x))` -> the attn call). */
function outermostModuleCall(stmt: SyntaxNode): SyntaxNode | null {
  const calls = stmt.descendantsOfType('call').filter(isModuleCall);
  return calls.find((c) => !calls.some((o) => o !== c && o.startIndex <= c.startIndex && o.endIndex >= c.endIndex)) ?? null;
}

/** Whether a statement already calls torch's checkpoint (wholly or for some layers). */
function callsCheckpoint(stmt: SyntaxNode): boolean {
  return stmt.descendantsOfType('call').some((c) => /(^|\.)checkpoint$/.test(c.childForFieldName('function')?.text ?? ''));
}

/** Recompute a block in backward instead of keeping its activations. */
export const checkpointCall: PythonRewrite = (text, line) => withTree(text, (root) => {
  let stmt = statementAt(root, line - 1);
  if (!stmt || ['function_definition', 'class_definition', 'decorated_definition', 'if_statement', 'with_statement', 'while_statement', 'try_statement'].includes(stmt.type)) return null;
  if (stmt.type === 'for_statement') stmt = stmt.childForFieldName('body'); // a layer loop: its block call
  if (!stmt || callsCheckpoint(stmt)) return null;
  const call = outermostModuleCall(stmt);
  if (!call) return null;
  const fn = call.childForFieldName('function')?.text ?? '';
  const args = call.childForFieldName('arguments');
  const inner = args ? args.text.slice(1, -1).trim() : '';
  const wrapped = `torch.utils.checkpoint.checkpoint(${fn}${inner ? `, ${inner}` : ''}, use_reentrant=False)`;
  return {
    description: `Checkpoint ${fn}: its activations are recomputed in backward instead of kept (use_reentrant=False; random ops such as dropout are replayed with the saved RNG state)`,
    edits: nonNull([ensureImport(root, 'import torch.utils.checkpoint'), replaceNode(call, wrapped)]),
  };
});

/** The condition that selects layer indices: `i < 6`, `2 <= i <= 5`, or `i in (0, 3, 7)`. */
function layerCondition(index: string, layers: number[]): string {
  const first = layers[0], last = layers[layers.length - 1];
  const contiguous = last - first + 1 === layers.length;
  if (contiguous && first === 0) return `${index} < ${last + 1}`;
  if (contiguous) return `${first} <= ${index} <= ${last}`;
  return `${index} in (${layers.join(', ')})`;
}

/**
 * Checkpoint some layers of a layer loop (the cheapest set a memory budget needs): the block call
 * becomes `checkpoint(blk, x, use_reentrant=False) if i < 6 else blk(x)`, with the loop given an
 * index through enumerate() when it has none. `for blk in self.blocks`, `for i, blk in
 * enumerate(self.blocks)` and `for i in range(len(self.blocks))` are recognised.
 */
export function checkpointLayers(text: string, line: number, layers: number[]): Promise<Rewrite | null> {
  const sorted = [...new Set(layers)].sort((a, b) => a - b);
  return withTree(text, (root) => {
    const loop = statementAt(root, line - 1);
    if (sorted.length === 0 || loop?.type !== 'for_statement') return null;
    const left = loop.childForFieldName('left'), right = loop.childForFieldName('right'), body = loop.childForFieldName('body');
    if (!left || !right || !body || callsCheckpoint(body)) return null;
    const call = outermostModuleCall(body);
    if (!call) return null;
    const header: TextEdit[] = [];
    let index: string;
    const rightCall = right.type === 'call' ? right.childForFieldName('function')?.text : null;
    if (left.type === 'identifier' && right.type === 'attribute') {
      // `for blk in self.blocks`: enumerate, with an index name the loop body does not use.
      const used = new Set(body.descendantsOfType('identifier').map((n) => n.text));
      index = ['i', 'layer_index', 'layer_idx'].find((n) => !used.has(n) && n !== left.text) ?? 'memlens_layer_index';
      header.push(replaceNode(left, `${index}, ${left.text}`), replaceNode(right, `enumerate(${right.text})`));
    } else if ((left.type === 'pattern_list' || left.type === 'tuple_pattern') && rightCall === 'enumerate') {
      const first = left.namedChildren[0];
      if (first?.type !== 'identifier') return null;
      index = first.text;
    } else if (left.type === 'identifier' && rightCall === 'range' && /^range\(\s*len\(\s*self\.\w+\s*\)\s*\)$/.test(right.text)) {
      index = left.text;
    } else {
      return null;
    }
    const fn = call.childForFieldName('function')?.text ?? '';
    const args = call.childForFieldName('arguments');
    const inner = args ? args.text.slice(1, -1).trim() : '';
    const conditional = `torch.utils.checkpoint.checkpoint(${fn}${inner ? `, ${inner}` : ''}, use_reentrant=False) if ${layerCondition(index, sorted)} else ${call.text}`;
    // Bare on the right of an assignment or as a statement; parenthesised inside a larger expression.
    const alone = call.parent?.type === 'expression_statement' || (call.parent?.type === 'assignment' && call.parent.childForFieldName('right')?.id === call.id);
    return {
      description: `Checkpoint layers ${sorted.join(', ')} of the loop over ${right.text}: their activations are recomputed in backward (use_reentrant=False)`,
      edits: nonNull([ensureImport(root, 'import torch.utils.checkpoint'), ...header, replaceNode(call, alone ? conditional : `(${conditional})`)]),
    };
  });
}

// ---------------------------------------------------------------- wrapping in a `with` block

function wrapInWith(root: SyntaxNode, text: string, line: number, header: string, marker: RegExp): TextEdit[] | null {
  const stmt = statementAt(root, line - 1);
  // A forward or a step inside a function; module-level code (imports, the main block) is not wrapped.
  if (!stmt || (stmt.type !== 'function_definition' && !enclosing(stmt, 'function_definition'))) return null;
  for (let w = enclosing(stmt, 'with_statement'); w; w = enclosing(w, 'with_statement')) {
    if (marker.test(w.text.split('\n')[0])) return null;
  }
  let body: SyntaxNode[];
  if (stmt.type === 'function_definition') {
    body = stmt.childForFieldName('body')?.namedChildren.filter((s) => s.type !== 'comment') ?? [];
    if (body[0]?.type === 'expression_statement' && body[0].firstNamedChild?.type === 'string') body = body.slice(1); // docstring stays
    if (body.length === 1 && body[0].type === 'with_statement' && marker.test(body[0].text.split('\n')[0])) return null;
  } else {
    if (stmt.type === 'with_statement' && marker.test(stmt.text.split('\n')[0])) return null;
    body = [stmt];
  }
  if (body.length === 0) return null;
  const first = body[0].startPosition.row;
  const last = body[body.length - 1].endPosition.row;
  const lines = text.split('\n');
  const indent = lineIndent(text, first);
  const unit = indentUnit(text);
  const moved = lines.slice(first, last + 1).map((l) => (l.trim() ? unit + l : l));
  const newText = [`${indent}${header}`, ...moved].join('\n');
  return [{ start: { line: first, character: 0 }, end: { line: last, character: lines[last].length }, newText }];
}

/** Keep saved activations in pinned CPU memory between forward and backward. */
export const offloadActivations: PythonRewrite = (text, line) => withTree(text, (root) => {
  const edits = wrapInWith(root, text, line, 'with torch.autograd.graph.save_on_cpu(pin_memory=True):', /save_on_cpu\(/);
  if (!edits) return null;
  return {
    description: 'Offload saved activations to pinned CPU memory (torch.autograd.graph.save_on_cpu): they are copied back for backward, trading PCIe transfers for device memory',
    edits: nonNull([ensureImport(root, 'import torch'), ...edits]),
  };
});

/** Run the step in bf16 autocast: activations in 2 bytes instead of 4. */
export const autocastBf16: PythonRewrite = (text, line) => withTree(text, (root) => {
  const header = 'with torch.autocast(device_type="cuda" if torch.cuda.is_available() else "cpu", dtype=torch.bfloat16):';
  const edits = wrapInWith(root, text, line, header, /torch\.autocast\(|torch\.(cuda|cpu)\.amp\.autocast\(/);
  if (!edits) return null;
  return {
    description: 'Run in bf16 autocast (torch.autocast): matmul and convolution activations take 2 bytes per element instead of 4; weights stay fp32',
    edits: nonNull([ensureImport(root, 'import torch'), ...edits]),
  };
});

// ---------------------------------------------------------------- fused attention

function isSoftmaxCall(n: SyntaxNode): boolean {
  return n.type === 'call' && /(^|\.)softmax$/.test(n.childForFieldName('function')?.text ?? '');
}

/** `q @ k.transpose(-2, -1)` (possibly parenthesised, scaled) -> q, k, and the scale argument. */
function scoresOf(expr: SyntaxNode): { q: string; k: string; scale: string | null } | null {
  let e = expr;
  while (e.type === 'parenthesized_expression' && e.namedChildren[0]) e = e.namedChildren[0];
  if (e.type === 'binary_operator') {
    const op = e.childForFieldName('operator')?.text;
    const left = e.childForFieldName('left');
    const right = e.childForFieldName('right');
    if (!left || !right) return null;
    if (op === '@') {
      const m = /^(.+)\.transpose\(\s*(-2\s*,\s*-1|-1\s*,\s*-2)\s*\)$/.exec(right.text) ?? /^(.+)\.mT$/.exec(right.text);
      return m ? { q: left.text, k: m[1], scale: '1.0' } : null;
    }
    if (op === '/' || op === '*') {
      const inner = scoresOf(left);
      if (!inner || inner.scale !== '1.0') return null;
      // Division by sqrt(head dim) is the default scale of scaled_dot_product_attention.
      if (op === '/' && /sqrt\(/.test(right.text)) return { ...inner, scale: null };
      return { ...inner, scale: op === '*' ? right.text : `1.0 / (${right.text})` };
    }
  }
  return null;
}

interface AttentionMatch {
  first: SyntaxNode;
  last: SyntaxNode;
  target: string;
  q: string;
  k: string;
  v: string;
  scale: string | null;
  mask: string | null;
}

const assignment = (s: SyntaxNode | null | undefined) => (s?.type === 'expression_statement' && s.firstNamedChild?.type === 'assignment' ? s.firstNamedChild : null);

/** s = scores; [s = s.masked_fill(cond, -inf)]; p = softmax(s); y = p @ v. */
function matchStatements(softmaxStmt: SyntaxNode): AttentionMatch | null {
  const siblings = softmaxStmt.parent?.namedChildren.filter((s) => s.type !== 'comment') ?? [];
  const i = siblings.findIndex((s) => s.id === softmaxStmt.id);
  const sm = assignment(softmaxStmt);
  const probs = sm?.childForFieldName('left')?.text;
  const smCall = sm?.childForFieldName('right');
  const scoresVar = smCall?.childForFieldName('arguments')?.namedChildren[0]?.text;
  if (!probs || !smCall || !scoresVar || !isSoftmaxCall(smCall)) return null;
  let j = i - 1;
  let mask: string | null = null;
  const maybeMask = assignment(siblings[j]);
  const maskCall = maybeMask?.childForFieldName('right');
  if (maybeMask?.childForFieldName('left')?.text === scoresVar && maskCall?.type === 'call' && maskCall.childForFieldName('function')?.text === `${scoresVar}.masked_fill`) {
    const margs = maskCall.childForFieldName('arguments')?.namedChildren ?? [];
    if (margs.length !== 2 || !/-inf|finfo|-1e/.test(margs[1].text)) return null;
    mask = margs[0].text;
    j--;
  }
  const scoreAsg = assignment(siblings[j]);
  const right = scoreAsg?.childForFieldName('right');
  if (scoreAsg?.childForFieldName('left')?.text !== scoresVar || !right) return null;
  const scores = scoresOf(right);
  const out = assignment(siblings[i + 1]);
  const product = out?.childForFieldName('right');
  if (!scores || !out || product?.type !== 'binary_operator' || product.childForFieldName('operator')?.text !== '@' || product.childForFieldName('left')?.text !== probs) return null;
  return {
    first: siblings[j], last: siblings[i + 1], target: out.childForFieldName('left')?.text ?? '',
    q: scores.q, k: scores.k, v: product.childForFieldName('right')?.text ?? '', scale: scores.scale, mask,
  };
}

/** `y = softmax(q @ k.transpose(-2, -1) / sqrt(d), dim=-1) @ v` in one statement. */
function matchExpression(softmaxCall: SyntaxNode): { node: SyntaxNode; q: string; k: string; v: string; scale: string | null } | null {
  const product = softmaxCall.parent;
  if (product?.type !== 'binary_operator' || product.childForFieldName('operator')?.text !== '@' || product.childForFieldName('left')?.id !== softmaxCall.id) return null;
  const first = softmaxCall.childForFieldName('arguments')?.namedChildren[0];
  const scores = first ? scoresOf(first) : null;
  if (!scores) return null;
  return { node: product, q: scores.q, k: scores.k, v: product.childForFieldName('right')?.text ?? '', scale: scores.scale };
}

/** Replace explicit softmax(QK^T)V with the fused kernel: no B*H*T*T score tensor kept. */
export const fusedAttention: PythonRewrite = (text, line) => withTree(text, (root) => {
  const fn = enclosingFunctionAt(root, line - 1);
  if (!fn) return null;
  const F = functionalAlias(root) ?? 'F';
  const importEdit = functionalAlias(root) ? null : ensureImport(root, 'import torch.nn.functional as F');
  const causalFile = /torch\.tril\(|\.tril\(/.test(text);
  for (const call of fn.descendantsOfType('call').filter(isSoftmaxCall)) {
    const scaleArg = (scale: string | null) => (scale === null ? '' : `, scale=${scale}`);
    const expr = matchExpression(call);
    if (expr) {
      return {
        description: `Use ${F}.scaled_dot_product_attention (torch >= 2.0): the fused kernel does not keep the T x T attention scores`,
        edits: nonNull([importEdit, replaceNode(expr.node, `${F}.scaled_dot_product_attention(${expr.q}, ${expr.k}, ${expr.v}${scaleArg(expr.scale)})`)]),
      };
    }
    const stmt = call.parent?.parent?.type === 'expression_statement' ? call.parent.parent : null;
    const m = stmt ? matchStatements(stmt) : null;
    if (!m) continue;
    // A masked_fill(mask == 0, -inf) over a lower-triangular buffer is the causal mask;
    // any other condition becomes attn_mask, True where attention is allowed.
    const causal = m.mask !== null && causalFile && /==\s*0$/.test(m.mask.trim());
    const maskArg = m.mask === null ? '' : causal ? ', is_causal=True' : `, attn_mask=~(${m.mask})`;
    const call2 = `${m.target} = ${F}.scaled_dot_product_attention(${m.q}, ${m.k}, ${m.v}${maskArg}${scaleArg(m.scale)})`;
    return {
      description: `Use ${F}.scaled_dot_product_attention${causal ? ' with is_causal=True' : ''} (torch >= 2.0): the fused kernel does not keep the T x T attention scores`,
      edits: nonNull([importEdit, { start: startOf(m.first), end: endOf(m.last), newText: call2 }]),
    };
  }
  return null;
});

function enclosingFunctionAt(root: SyntaxNode, row: number): SyntaxNode | null {
  let best: SyntaxNode | null = null;
  for (const f of root.descendantsOfType('function_definition')) {
    if (f.startPosition.row <= row && f.endPosition.row >= row && (!best || f.startIndex > best.startIndex)) best = f;
  }
  return best;
}

// ---------------------------------------------------------------- weight quantization

const QUANTIZE = (m: string) => `torch.ao.quantization.quantize_dynamic(${m}, {torch.nn.Linear}, dtype=torch.qint8)`;

/** Dynamic int8 quantization of Linear weights, with torch's own quantize_dynamic (no extra package). */
export const quantizeDynamic: PythonRewrite = (text, line) => withTree(text, (root) => {
  const stmt = statementAt(root, line - 1);
  if (!stmt) return null;
  const description = 'Quantize nn.Linear weights to int8 with torch.ao.quantization.quantize_dynamic (part of torch): 1 byte per weight instead of 4, activations quantized on the fly (CPU inference)';
  const importEdit = ensureImport(root, 'import torch');
  if (stmt.type === 'return_statement') {
    const value = stmt.namedChildren[0];
    if (!value || value.text.includes('quantize_dynamic(')) return null;
    return { description, edits: nonNull([importEdit, replaceNode(value, QUANTIZE(value.text))]) };
  }
  const asg = assignment(stmt);
  const target = asg?.childForFieldName('left');
  if (!asg || target?.type !== 'identifier' || asg.childForFieldName('right')?.text.includes('quantize_dynamic(')) return null;
  const next = stmt.nextNamedSibling;
  if (next && next.text.startsWith(`${target.text} = torch.ao.quantization.quantize_dynamic(`)) return null;
  const indent = lineIndent(text, stmt.startPosition.row);
  return {
    description,
    edits: nonNull([importEdit, { start: endOf(stmt), end: endOf(stmt), newText: `\n${indent}${target.text} = ${QUANTIZE(target.text)}` }]),
  };
});

// ---------------------------------------------------------------- chunked loss

const CHUNKED_NAME = 'chunked_cross_entropy';

function chunkedHelper(F: string): string {
  return [
    `def ${CHUNKED_NAME}(logits, targets, chunk_size=4096, ignore_index=-100):`,
    '    """Mean cross-entropy computed over row chunks; each chunk\'s log-softmax is recomputed in',
    '    backward instead of kept, so the loss holds no extra (rows x vocabulary) tensor."""',
    '    logits = logits.reshape(-1, logits.size(-1))',
    '    targets = targets.reshape(-1)',
    '    total = logits.new_zeros((), dtype=torch.float32)',
    '    for start in range(0, logits.size(0), chunk_size):',
    '        total = total + torch.utils.checkpoint.checkpoint(',
    `            ${F}.cross_entropy, logits[start:start + chunk_size].float(), targets[start:start + chunk_size],`,
    '            reduction="sum", ignore_index=ignore_index, use_reentrant=False)',
    '    return total / (targets != ignore_index).sum().clamp(min=1)',
  ].join('\n');
}

/** Replace a whole-vocabulary cross-entropy with a chunked one (same mean, same ignore_index). */
export const chunkedCrossEntropy: PythonRewrite = (text, line) => withTree(text, (root) => {
  const stmt = statementAt(root, line - 1);
  if (!stmt) return null;
  const call = stmt.descendantsOfType('call').find((c) => /(^|\.)cross_entropy$/.test(c.childForFieldName('function')?.text ?? ''));
  const args = call?.childForFieldName('arguments')?.namedChildren ?? [];
  // Only the default mean reduction over two positional arguments keeps the same value.
  if (!call || args.length !== 2 || args.some((a) => a.type === 'keyword_argument')) return null;
  const F = functionalAlias(root);
  const edits: Array<TextEdit | null> = [
    ensureImport(root, 'import torch'),
    ensureImport(root, 'import torch.utils.checkpoint'),
  ];
  if (!F) edits.push(ensureImport(root, 'import torch.nn.functional as F'));
  const hasHelper = root.namedChildren.some((n) => n.type === 'function_definition' && n.childForFieldName('name')?.text === CHUNKED_NAME);
  if (!hasHelper) {
    const firstDef = root.namedChildren.find((n) => ['function_definition', 'class_definition', 'decorated_definition'].includes(n.type));
    const at = firstDef ? startOf(firstDef) : { line: text.split('\n').length, character: 0 };
    edits.push({ start: at, end: at, newText: `${chunkedHelper(F ?? 'F')}\n\n\n` });
  }
  edits.push(replaceNode(call.childForFieldName('function') as SyntaxNode, CHUNKED_NAME));
  return {
    description: 'Chunk the cross-entropy over rows with checkpointing: the (rows x vocabulary) log-softmax is not kept for backward',
    edits: nonNull(edits),
  };
});

export const PYTHON_REWRITES: Record<RewriteKind, PythonRewrite> = {
  'checkpoint': checkpointCall,
  'offload-activations': offloadActivations,
  'sdpa': fusedAttention,
  'quantize-dynamic': quantizeDynamic,
  'autocast-bf16': autocastBf16,
  'chunked-cross-entropy': chunkedCrossEntropy,
};

/** Applies a rewrite at a line; the text unchanged when it does not apply. */
export async function rewriteText(kind: RewriteKind, text: string, line: number): Promise<string> {
  const r = await PYTHON_REWRITES[kind](text, line);
  return r ? applyEdits(text, r.edits) : text;
}
