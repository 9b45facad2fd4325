// The attribute and subgraph accessors a rule sees; one object per graph, pointed at each node in turn.
import type { GraphNode, Initializer } from '../graph';
import type { BranchChoice, InferredTensor, ShapeRuleContext } from './types';

export type SubgraphInference = (
  node: GraphNode,
  attr: string,
  inputs: (InferredTensor | undefined)[] | undefined,
) => InferredTensor[] | undefined;

export class NodeRuleContext implements ShapeRuleContext {
  opset = 0;
  private node: GraphNode | null = null;

  constructor(
    private readonly inferSubgraph: SubgraphInference,
    private readonly notes: {
      warn(node: GraphNode, message: string): void;
      branch(node: GraphNode, choice: BranchChoice): void;
      body(node: GraphNode, attr: string): ReadonlyMap<string, InferredTensor> | undefined;
      pin(node: GraphNode): BranchChoice['taken'] | undefined;
    },
  ) {}

  at(node: GraphNode, opset: number): this {
    this.node = node;
    this.opset = opset;
    return this;
  }

  private attr(name: string) {
    return this.node?.attributes[name];
  }

  int(name: string, fallback: number): number {
    const a = this.attr(name);
    return a?.kind === 'int' ? a.value : fallback;
  }

  ints(name: string): number[] | undefined {
    const a = this.attr(name);
    if (a?.kind === 'ints') return a.value;
    if (a?.kind === 'int') return [a.value];
    return undefined;
  }

  float(name: string, fallback: number): number {
    const a = this.attr(name);
    if (a?.kind === 'float' || a?.kind === 'int') return a.value;
    return fallback;
  }

  floats(name: string): number[] | undefined {
    const a = this.attr(name);
    return a?.kind === 'floats' ? a.value : undefined;
  }

  string(name: string, fallback: string): string {
    const a = this.attr(name);
    return a?.kind === 'string' ? a.value : fallback;
  }

  tensor(name: string): Initializer | undefined {
    const a = this.attr(name);
    return a?.kind === 'tensor' ? a.value : undefined;
  }

  subgraphOutputs(attr: string, inputs?: (InferredTensor | undefined)[]): InferredTensor[] | undefined {
    return this.node ? this.inferSubgraph(this.node, attr, inputs) : undefined;
  }

  subgraphTensors(attr: string): ReadonlyMap<string, InferredTensor> | undefined {
    return this.node ? this.notes.body(this.node, attr) : undefined;
  }

  warn(message: string): void {
    if (this.node) this.notes.warn(this.node, message);
  }

  chooseBranch(choice: BranchChoice): void {
    if (this.node) this.notes.branch(this.node, choice);
  }

  pinnedBranch(): BranchChoice['taken'] | undefined {
    return this.node ? this.notes.pin(this.node) : undefined;
  }
}
