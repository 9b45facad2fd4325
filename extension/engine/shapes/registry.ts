// Operator -> shape rule, by domain ('' = ai.onnx) and type. One table per family of rules.
import type { RuleTable, ShapeRule } from './types';
import { attentionRules } from './rules/attention';
import { controlFlowRules } from './rules/control-flow';
import { convPoolRules } from './rules/conv-pool';
import { einsumRules } from './rules/einsum';
import { elementwiseRules } from './rules/elementwise';
import { generatorRules } from './rules/generators';
import { indexingRules } from './rules/indexing';
import { lossRules } from './rules/loss';
import { matmulRules } from './rules/matmul';
import { normalizationRules } from './rules/normalization';
import { quantizationRules } from './rules/quantization';
import { recurrentRules } from './rules/recurrent';
import { reduceRules } from './rules/reduce';
import { resizeRules } from './rules/resize';
import { sequenceRules } from './rules/sequence';
import { shapeOpRules } from './rules/shape-ops';

const TABLES: RuleTable[] = [
  elementwiseRules, matmulRules, convPoolRules, normalizationRules, shapeOpRules, generatorRules,
  indexingRules, reduceRules, attentionRules, quantizationRules, controlFlowRules, einsumRules,
  resizeRules, recurrentRules, lossRules, sequenceRules,
];

/** Domain -> operator -> rule: two lookups per node, no key string built. */
const RULES = new Map<string, Map<string, ShapeRule>>();
for (const table of TABLES) {
  for (const [domain, ops] of Object.entries(table)) {
    let byOp = RULES.get(domain);
    if (!byOp) RULES.set(domain, (byOp = new Map<string, ShapeRule>()));
    for (const [op, rule] of Object.entries(ops)) {
      if (byOp.has(op)) throw new Error(`internal: two shape rules for ${domain}:${op}`);
      byOp.set(op, rule);
    }
  }
}

/** The rule for an operator, or undefined when MemLens has none. */
export function ruleFor(domain: string, opType: string): ShapeRule | undefined {
  return RULES.get(domain === 'ai.onnx' ? '' : domain)?.get(opType);
}
