import type { DType, Dim, GraphNode, Initializer } from '../graph';

/** What shape inference knows about one tensor. */
export interface InferredTensor {
  dtype: DType;
  /** null when even the rank is unknown. */
  shape: Dim[] | null;
  /**
   * Constant values of small integer tensors (shapes, axes, indices), folded so that
   * Reshape/Expand/Slice targets computed by Shape->Gather->Concat chains resolve.
   */
  value?: number[];
}

export interface ShapeRuleContext {
  /** Opset version of the node's domain. */
  opset: number;
  /** Attribute helpers keep rules short. */
  int(name: string, fallback: number): number;
  ints(name: string): number[] | undefined;
  float(name: string, fallback: number): number;
  floats(name: string): number[] | undefined;
  string(name: string, fallback: string): string;
  /** A tensor-valued attribute (Constant's `value`, ConstantOfShape's `value`). */
  tensor(name: string): Initializer | undefined;
  /**
   * Shapes of a subgraph attribute's outputs (If/Loop/Scan), inferred in the outer scope.
   * `inputs` seeds the subgraph's formal inputs where their declared types say less.
   */
  subgraphOutputs(attr: string, inputs?: (InferredTensor | undefined)[]): InferredTensor[] | undefined;
}

/**
 * One operator's rule: from the node and what is known of its inputs ('' inputs are undefined),
 * the types of its outputs, in order. Return null for an output it cannot infer; the driver then
 * falls back to declared value_info and otherwise counts the tensor as unknown.
 */
export type ShapeRule = (
  node: GraphNode,
  inputs: (InferredTensor | undefined)[],
  ctx: ShapeRuleContext,
) => (InferredTensor | null)[];

/** Rules of one family, by domain ('' = ai.onnx) then operator type. */
export type RuleTable = Record<string, Record<string, ShapeRule>>;

export interface ShapeResult {
  /** Every tensor of the main graph (inputs, initializers, node outputs), in execution order. */
  tensors: Map<string, InferredTensor>;
  /** Tensor names whose bytes cannot be known (unknown dtype, rank or a non-numeric dim). */
  unknown: string[];
  warnings: string[];
}
