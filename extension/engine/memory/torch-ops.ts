// PyTorch ops that the ONNX exporter writes as several nodes (torch/onnx/symbolic_opset9.py),
// recognised so that the group saves what the one autograd node saves (derivatives.yaml) and not
// what each piece would: F.gelu saves its input, not x/√2, erf(·) and 1+erf(·).
// A hand-written `x * torch.sigmoid(x)` exports exactly as F.silu does; it is read as F.silu.
import { isEncodable, decodeValues } from '../onnx/raw-data';
import { savesInputDecision, type SavedDecision } from './saved-rules';
import type { TensorTable } from './tensor-table';

type Pattern = { kind: 'x' } | { kind: 'const'; value: number } | { kind: 'op'; op: string; args: Pattern[] };

const X: Pattern = { kind: 'x' };
const c = (value: number): Pattern => ({ kind: 'const', value });
const op = (name: string, ...args: Pattern[]): Pattern => ({ kind: 'op', op: name, args });
const COMMUTATIVE = new Set(['Mul', 'Add']);

interface TorchOp {
  name: string;
  /** The derivatives.yaml entry whose saved tensors the group keeps. */
  derivative: string;
  pattern: Pattern;
  /** What the autograd node keeps: its input (the default) or its result. */
  saves?: 'input' | 'result';
}

const TORCH_OPS: TorchOp[] = [
  // symbolic_opset9.gelu, approximate='none': x * (erf(x / √2) + 1) * 0.5
  { name: 'GELU', derivative: 'gelu: self: gelu_backward(grad, self, approximate)',
    pattern: op('Mul', op('Mul', X, op('Add', op('Erf', op('Div', X, c(Math.SQRT2))), c(1))), c(0.5)) },
  // approximate='tanh': 0.5 * (x * (1 + tanh(√(2/π) * (x + 0.044715 * x·x·x))))
  { name: 'GELU (tanh)', derivative: 'gelu: self: gelu_backward(grad, self, approximate)',
    pattern: op('Mul', c(0.5), op('Mul', X, op('Add', c(1), op('Tanh', op('Mul', c(Math.sqrt(2 / Math.PI)),
      op('Add', X, op('Mul', c(0.044715), op('Mul', X, op('Mul', X, X))))))))) },
  // symbolic_opset9.silu: x * sigmoid(x)
  { name: 'SiLU', derivative: 'silu: self: silu_backward(grad, self)', pattern: op('Mul', X, op('Sigmoid', X)) },
  // symbolic_opset9.mish: x * tanh(softplus(x))
  { name: 'Mish', derivative: 'mish: self: mish_backward(grad, self)', pattern: op('Mul', X, op('Tanh', op('Softplus', X))) },
  // symbolic_opset9.rsqrt: 1 / sqrt(x); the one RsqrtBackward0 keeps its result, not sqrt(x)
  { name: 'rsqrt', derivative: 'rsqrt: self: -0.5 * grad * result.pow(3).conj()', pattern: op('Div', c(1), op('Sqrt', X)), saves: 'result' },
];

interface Match { x: string | null; members: number[] }

/** Scalar values of the graph's Constant nodes, by output name. */
export function constantScalars(table: TensorTable): Map<string, number> {
  const out = new Map<string, number>();
  for (const node of table.nodes) {
    const v = node.attributes.value;
    if (node.opType !== 'Constant' || v?.kind !== 'tensor' || !v.value.raw || !isEncodable(v.value.dtype)) continue;
    if (v.value.dims.reduce((a, d) => a * d, 1) !== 1) continue;
    out.set(node.outputs[0], decodeValues(v.value.dtype, v.value.raw)[0]);
  }
  return out;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));

function matchTensor(p: Pattern, name: string, table: TensorTable, scalars: Map<string, number>, m: Match): boolean {
  if (p.kind === 'const') {
    const v = scalars.get(name);
    return v !== undefined && close(v, p.value);
  }
  if (p.kind === 'x') {
    if (scalars.has(name)) return false;
    if (m.x === null) m.x = name;
    return m.x === name;
  }
  const pos = table.tensors.get(name)?.producer;
  return pos !== null && pos !== undefined && matchNode(p, pos, table, scalars, m);
}

function matchNode(p: Pattern & { kind: 'op' }, pos: number, table: TensorTable, scalars: Map<string, number>, m: Match): boolean {
  const node = table.nodes[pos];
  if (node.opType !== p.op || node.inputs.length !== p.args.length) return false;
  const orders = COMMUTATIVE.has(p.op) && p.args.length === 2 ? [[0, 1], [1, 0]] : [p.args.map((_, i) => i)];
  for (const order of orders) {
    const trial: Match = { x: m.x, members: [...m.members] };
    if (order.every((k, i) => matchTensor(p.args[k], node.inputs[i], table, scalars, trial))) {
      m.x = trial.x;
      m.members = [...trial.members, pos];
      return true;
    }
  }
  return false;
}

/** A match stands for one op only when no node outside it reads an intermediate result. */
function selfContained(members: number[], tail: number, table: TensorTable): boolean {
  const inside = new Set(members);
  return members.every((pos) => pos === tail || table.nodes[pos].outputs.every((o) => (table.tensors.get(o)?.consumers ?? []).every((c) => inside.has(c))));
}

/** One recognised PyTorch op: its exported nodes (forward positions, the last is `tail`) and its input. */
export interface TorchOpGroup { name: string; derivative: string; x: string; members: number[]; tail: number; saves: 'input' | 'result' }

/** The recognised PyTorch ops of the graph, each node in at most one. */
export function torchOpGroups(table: TensorTable): TorchOpGroup[] {
  const scalars = constantScalars(table);
  const taken = new Set<number>();
  const groups: TorchOpGroup[] = [];
  for (let tail = table.nodes.length - 1; tail >= 0; tail--) {
    if (taken.has(tail)) continue;
    for (const t of TORCH_OPS) {
      if (t.pattern.kind !== 'op') continue;
      const m: Match = { x: null, members: [] };
      if (!matchNode(t.pattern, tail, table, scalars, m) || m.x === null || !selfContained(m.members, tail, table)) continue;
      const members = [...new Set(m.members)];
      if (members.some((pos) => taken.has(pos))) continue;
      for (const pos of members) taken.add(pos);
      groups.push({ name: t.name, derivative: t.derivative, x: m.x, members, tail, saves: t.saves ?? 'input' });
      break;
    }
  }
  return groups;
}

/** Saved-for-backward decisions for the nodes of recognised PyTorch ops, by forward position. */
export function torchOpDecisions(table: TensorTable): Map<number, SavedDecision> {
  const out = new Map<number, SavedDecision>();
  for (const g of torchOpGroups(table)) {
    for (const pos of g.members) {
      const kept = g.saves === 'result' ? table.nodes[g.tail].outputs[0] : g.x;
      out.set(pos, pos === g.tail
        ? savesInputDecision(`${g.name} (exported as ${g.members.length} nodes) saves its ${g.saves} (derivatives.yaml ${g.derivative})`, kept)
        : { rule: `part of ${g.name}: its last node keeps what the op saves`, saved: [], backwardWorkspace: 0 });
    }
  }
  return out;
}

/**
 * F.linear with a bias, exported as MatMul then Add of the bias: PyTorch makes one tensor
 * (aten/src/ATen/native/Linear.cpp: addmm for 2-D and contiguous 3-D inputs, else matmul then an
 * in-place `output.add_(bias)`). Add position -> the MatMul result whose buffer the sum takes.
 */
export function linearBiasAdds(table: TensorTable): Map<number, string> {
  const out = new Map<number, string>();
  table.nodes.forEach((node, pos) => {
    if (node.opType !== 'Add' || node.inputs.length !== 2) return;
    for (const [mm, bias] of [[node.inputs[0], node.inputs[1]], [node.inputs[1], node.inputs[0]]]) {
      const m = table.tensors.get(mm), b = table.tensors.get(bias);
      const producer = m?.producer;
      if (!m || !b || producer === null || producer === undefined || table.nodes[producer].opType !== 'MatMul') continue;
      if (!b.isWeight || m.consumers.length !== 1 || b.bytes >= m.bytes) continue;
      out.set(pos, mm);
      return;
    }
  });
  return out;
}
