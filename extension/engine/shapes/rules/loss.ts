// Losses: SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss (opset 12+). Scores [N, C, d1..],
// target [N, d1..]; the loss is a scalar unless reduction is 'none', then the target's shape;
// SoftmaxCrossEntropyLoss's optional second output holds the log-probabilities, shaped as scores.
import type { RuleTable, ShapeRule } from '../types';
import { typed } from './util';

const loss: ShapeRule = (node, [scores, target], ctx) => {
  if (!scores) return node.outputs.map(() => null);
  const reduction = ctx.string('reduction', 'mean');
  const lossShape = reduction === 'none' ? (target?.shape ?? null) : [];
  const out = [typed(scores.dtype, lossShape)];
  if (node.outputs.length > 1) out.push(typed(scores.dtype, scores.shape));
  return out;
};

export const lossRules: RuleTable = {
  '': { SoftmaxCrossEntropyLoss: loss, NegativeLogLikelihoodLoss: loss },
};
