// Optimizer and precision accounting per trainable parameter (standard accounting; ZeRO,
// Rajbhandari et al. 2020, counts fp32 master weights with the optimizer states: K = 12 for Adam).
import type { OptimizerKind, Precision } from '../settings';

export interface OptimizerCost {
  /** Bytes of optimizer state per trainable parameter, fp32 master weights included under mixed precision. */
  stateBytesPerParam: number;
  /** How the figure is made up, for hovers and docs. */
  formula: string;
}

/** bitsandbytes' block-wise 8-bit Adam keeps one fp32 absmax per 2048 values for each of m and v. */
const ADAM8BIT_BLOCK = 2048;

export function optimizerCost(optimizer: OptimizerKind, precision: Precision): OptimizerCost {
  const mixed = precision !== 'fp32';
  const master = mixed ? 4 : 0;
  const masterNote = mixed ? ' + 4 B fp32 master weights' : '';
  switch (optimizer) {
    case 'adam':
    case 'adamw':
      return { stateBytesPerParam: 8 + master, formula: `Adam m, v in fp32 (8 B)${masterNote}` };
    case 'adam8bit':
      return {
        stateBytesPerParam: 2 + (2 * 4) / ADAM8BIT_BLOCK + master,
        formula: `8-bit Adam m, v (2 B) + fp32 absmax per ${ADAM8BIT_BLOCK}-value block${masterNote}`,
      };
    case 'sgd-momentum':
      return { stateBytesPerParam: 4 + master, formula: `SGD momentum buffer in fp32 (4 B)${masterNote}` };
    case 'sgd':
      return { stateBytesPerParam: master, formula: mixed ? 'no state; 4 B fp32 master weights' : 'no state' };
    case 'none':
      return { stateBytesPerParam: 0, formula: 'no optimizer (gradients only)' };
  }
}
