// The one place buffers become text, for people only: nothing reads these labels back.
import type { GraphNode } from '../graph';
import type { AnalysisSettings } from '../settings';
import type { Buffer, SavedExtra } from './buffer-types';
import { optimizerCost } from './optimizer';

export interface LabelContext {
  /** Nodes in execution order (the positions buffers name). */
  nodes: readonly GraphNode[];
  settings: AnalysisSettings;
}

const extraText = (e: SavedExtra) => `${e.item} (${e.rule})`;

export function bufferLabel(b: Buffer, ctx: LabelContext): string {
  switch (b.kind) {
    case 'tensor':
      return b.tensor;
    case 'saved':
      return extraText(b.extra);
    case 'restored':
      return b.of.kind === 'tensor'
        ? `${b.of.tensor} (${b.how === 'recomputed' ? 'recomputed' : 'fetched from host'} for backward)`
        : `${extraText(b.of.extra)}, ${b.how === 'recomputed' ? 'recomputed' : 'fetched from host'}`;
    case 'workspace':
      switch (b.use.kind) {
        case 'checkpointed-extra': return `${extraText(b.use.extra)}, dropped after forward`;
        case 'backward': return `backward workspace of ${ctx.nodes[b.use.node]?.opType ?? 'node'}`;
        case 'mkldnn-conv': return 'oneDNN blocked copies of the input, weight and result (aten::mkldnn_convolution on CPU)';
        case 'loss': return `cross-entropy ${b.use.item} (the loss after the graph)`;
        case 'optimizer-step': return b.use.implementation === 'foreach'
          ? `optimizer step temporaries of ${b.use.parameter} (${b.use.count} fp32 cop${b.use.count === 1 ? 'y' : 'ies'}, _foreach ops over every parameter)`
          : `optimizer step temporaries (${b.use.count} fp32 tensor${b.use.count === 1 ? '' : 's'} the size of the largest parameter, ${b.use.parameter})`;
      }
      break;
    case 'gradient':
      return b.viewOf === undefined ? `gradient of ${b.tensor}` : `gradient of ${b.tensor}: a view that keeps the whole gradient of ${b.viewOf} (torch.cat's backward)`;
    case 'optimizer':
      return `${b.parameter}: ${optimizerCost(ctx.settings.optimizer, ctx.settings.dtype).formula}`;
  }
}
