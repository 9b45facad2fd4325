import type { DType, Dim, GraphNode, Initializer } from '../graph';
import type { IfBranch } from '../settings';

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
  /**
   * Set when the value is a sequence of tensors (SequenceEmpty, SequenceInsert, SplitToSequence):
   * dtype and shape then describe each element (null where the elements differ), `length` how many.
   */
  sequence?: { length: Dim };
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
  /** Tensors of a subgraph attribute of this node, once subgraphOutputs has inferred it. */
  subgraphTensors(attr: string): ReadonlyMap<string, InferredTensor> | undefined;
  /** A choice the rule made for this node that the user should know of (one warning line). */
  warn(message: string): void;
  /** Which branch of an If the shapes follow, and why (read by the memory model). */
  chooseBranch(choice: BranchChoice): void;
  /** The branch the user (or a measured run) says this If runs (settings' `branches`), if any. */
  pinnedBranch(): BranchChoice['taken'] | undefined;
}

/**
 * The branch of an If that shapes follow: the one a folded condition selects; the one the settings
 * pin (`pinned`: the user's `--branch`, or the branch a measured run took); the only one whose
 * shapes fit the inputs; or, when the condition is not known statically, the one whose tensors
 * (outputs and everything its nodes make) take more bytes (`larger`), so the estimate is not below
 * what either branch needs.
 */
export interface BranchChoice {
  taken: IfBranch;
  why: 'condition' | 'pinned' | 'only-valid' | 'larger';
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
  /** If nodes (of any graph, by node name) and the branch their output shapes follow. */
  branches: Map<string, BranchChoice>;
  /**
   * Tensors of every subgraph body (If branches, Loop and Scan bodies, nested ones too), keyed
   * `node/attribute`: the formal inputs, the body's own initializers and node outputs.
   */
  bodies: Map<string, Map<string, InferredTensor>>;
}
