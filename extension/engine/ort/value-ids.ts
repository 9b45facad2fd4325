// The values of one graph numbered once for the allocation planner (allocation-plan.ts), with each
// node's reads and outputs as those numbers, so the plan's use counts and buffers are arrays
// indexed by number rather than maps keyed by name. The numbering changes nothing the plan says:
// two reads or outputs get the same number exactly when they name the same value.
import type { GraphNode } from '../graph';
import { nodeReads } from '../graph-order';
import type { TensorRecord, TensorTable } from '../memory/tensor-table';

/**
 * Node pos reads values reads[readStart[pos] .. readStart[pos + 1]), its inputs first in input
 * order (plannedReads), and writes outs[outStart[pos] .. outStart[pos + 1]) in output order, each
 * with the table's record of that output name in outRecs. -1: an empty name, or, numbered from
 * the table, a read of a name the table has no record of (defined nowhere in the graph).
 */
export interface ValueIds {
  reads: Int32Array;
  readStart: Int32Array;
  outs: Int32Array;
  outStart: Int32Array;
  outRecs: (TensorRecord | undefined)[];
  /** Numbers of the graph outputs that have one. */
  graphOutputIds: number[];
  count: number;
}

/**
 * A node's input defs then its implicit inputs: the outer-scope values its subgraphs read, each
 * once (Node::ImplicitInputDefs). The planner counts both as uses and keeps an implicit input
 * alive until the node (an If, Loop or Scan) has run.
 */
export function plannedReads(node: GraphNode): string[] {
  if (!hasSubgraph(node)) return node.inputs;
  const all = nodeReads(node);
  return all === node.inputs ? all : [...node.inputs, ...new Set(all.slice(node.inputs.length))];
}

function hasSubgraph(node: GraphNode): boolean {
  for (const key in node.attributes) {
    const kind = node.attributes[key].kind;
    if (kind === 'graph' || kind === 'graphs') return true;
  }
  return false;
}

export function valueIds(table: TensorTable, graphOutputs: Set<string>): ValueIds {
  return (!table.nodes.some(hasSubgraph) && idsFromTable(table, graphOutputs)) || idsByName(table, graphOutputs);
}

/** Every name looked up: for graphs whose nodes read values the table does not list (a subgraph's outer-scope reads). */
function idsByName(table: TensorTable, graphOutputs: Set<string>): ValueIds {
  const idOf = new Map<string, number>();
  const id = (name: string): number => {
    if (!name) return -1;
    let k = idOf.get(name);
    if (k === undefined) idOf.set(name, (k = idOf.size));
    return k;
  };
  const reads: number[] = [], outs: number[] = [];
  const outRecs: (TensorRecord | undefined)[] = [];
  const readStart = new Int32Array(table.nodes.length + 1), outStart = new Int32Array(table.nodes.length + 1);
  table.nodes.forEach((node, pos) => {
    for (const i of plannedReads(node)) reads.push(id(i));
    for (const o of node.outputs) {
      outs.push(id(o));
      outRecs.push(o ? table.tensors.get(o) : undefined);
    }
    readStart[pos + 1] = reads.length;
    outStart[pos + 1] = outs.length;
  });
  const graphOutputIds = [...graphOutputs].flatMap((o) => idOf.get(o) ?? []);
  return { reads: Int32Array.from(reads), readStart, outs: Int32Array.from(outs), outStart, outRecs, graphOutputIds, count: idOf.size };
}

/**
 * A graph without subgraphs reads only its inputs, so the table's records number its values: each
 * record's consumers and producer say which input and output slots name it, found by comparing
 * names within those nodes, without a lookup by name. A Constant's output (a record without a
 * producer) is found by name. Null when an output slot names a value that is not its node's nor a
 * Constant's (a value another node, an initializer or an input defines): that graph is numbered by name.
 */
function idsFromTable(table: TensorTable, graphOutputs: Set<string>): ValueIds | null {
  const { nodes } = table;
  const readStart = new Int32Array(nodes.length + 1), outStart = new Int32Array(nodes.length + 1);
  let wide = false;
  for (let p = 0; p < nodes.length; p++) {
    readStart[p + 1] = readStart[p] + nodes[p].inputs.length;
    outStart[p + 1] = outStart[p] + nodes[p].outputs.length;
    wide ||= isWide(nodes[p]);
  }
  const reads = new Int32Array(readStart[nodes.length]).fill(-1), outs = new Int32Array(outStart[nodes.length]).fill(-1);
  const outRecs = new Array<TensorRecord | undefined>(outs.length);
  const graphOutputIds: number[] = [];
  const constants = new Map<TensorRecord, number>();
  const idOfWide = wide ? new Map<TensorRecord, number>() : null;
  let id = 0;
  for (const rec of table.tensors.values()) {
    const name = rec.name;
    idOfWide?.set(rec, id);
    for (const pos of rec.consumers) {
      const inputs = nodes[pos].inputs;
      if (inputs.length > WIDE) continue;
      for (let i = 0; i < inputs.length; i++) if (inputs[i] === name) reads[readStart[pos] + i] = id;
    }
    if (rec.producer !== null) {
      const outputs = nodes[rec.producer].outputs;
      if (outputs.length <= WIDE) {
        for (let k = 0; k < outputs.length; k++) {
          if (outputs[k] !== name) continue;
          outs[outStart[rec.producer] + k] = id;
          outRecs[outStart[rec.producer] + k] = rec;
        }
      }
    } else if (rec.isConstant) constants.set(rec, id);
    if (graphOutputs.has(name)) graphOutputIds.push(id);
    id++;
  }
  if (idOfWide) wideSlots(table, idOfWide, { reads, readStart, outs, outStart, outRecs });
  return constantOutputs(table, constants, outs, outStart, outRecs) ? { reads, readStart, outs, outStart, outRecs, graphOutputIds, count: id } : null;
}

/**
 * Slots per node above which a node's slots are found by name: comparing names within the node
 * for each of its values is quadratic in its width (a Split with 10^5 outputs, a Concat of as many).
 */
const WIDE = 8;

function isWide(node: GraphNode): boolean {
  return node.inputs.length > WIDE || node.outputs.length > WIDE;
}

/** The slots of wide nodes, by name, with the same rules: an output slot only for its own producer. */
function wideSlots(
  table: TensorTable, idOf: Map<TensorRecord, number>,
  v: Pick<ValueIds, 'reads' | 'readStart' | 'outs' | 'outStart' | 'outRecs'>,
): void {
  table.nodes.forEach((node, p) => {
    if (node.inputs.length > WIDE) {
      node.inputs.forEach((name, i) => {
        const rec = name ? table.tensors.get(name) : undefined;
        if (rec) v.reads[v.readStart[p] + i] = idOf.get(rec)!;
      });
    }
    if (node.outputs.length > WIDE) {
      node.outputs.forEach((name, k) => {
        const rec = name ? table.tensors.get(name) : undefined;
        if (!rec || rec.producer !== p) return;
        v.outs[v.outStart[p] + k] = idOf.get(rec)!;
        v.outRecs[v.outStart[p] + k] = rec;
      });
    }
  });
}

/** Numbers the output slots left unnumbered, each a Constant's value; false when one is not. */
function constantOutputs(
  table: TensorTable, constants: Map<TensorRecord, number>, outs: Int32Array, outStart: Int32Array, outRecs: (TensorRecord | undefined)[],
): boolean {
  for (let p = 0; p < table.nodes.length; p++) {
    const outputs = table.nodes[p].outputs;
    for (let k = 0; k < outputs.length; k++) {
      if (!outputs[k] || outs[outStart[p] + k] >= 0) continue;
      const rec = table.tensors.get(outputs[k]);
      const id = rec ? constants.get(rec) : undefined;
      if (id === undefined) return false;
      outs[outStart[p] + k] = id;
      outRecs[outStart[p] + k] = rec;
    }
  }
  return true;
}
