// Recurrent layers (RNN, GRU, LSTM): Y holds every step's hidden state, Y_h / Y_c the last.
import type { Dim } from '../../graph';
import type { RuleTable, ShapeRule } from '../types';
import { typed } from './util';

/** layout 0: X [T, B, in] -> Y [T, dirs, B, H], Y_h [dirs, B, H]; layout 1: batch first. */
const recurrent: ShapeRule = (node, [x, w], ctx) => {
  if (!x) return node.outputs.map(() => null);
  const dirs = ctx.string('direction', 'forward') === 'bidirectional' ? 2 : 1;
  const hidden: Dim = ctx.int('hidden_size', 0) || null;
  const batchFirst = ctx.int('layout', 0) === 1;
  const t = x.shape?.[batchFirst ? 1 : 0] ?? null;
  const b = x.shape?.[batchFirst ? 0 : 1] ?? null;
  const y = batchFirst ? [b, t, dirs, hidden] : [t, dirs, b, hidden];
  const last = batchFirst ? [b, dirs, hidden] : [dirs, b, hidden];
  const dtype = x.dtype !== 'undefined' ? x.dtype : w?.dtype ?? 'undefined';
  return node.outputs.map((_o, i) => typed(dtype, i === 0 ? y : last));
};

export const recurrentRules: RuleTable = { '': { RNN: recurrent, GRU: recurrent, LSTM: recurrent } };
