// One GPT-2 small training step: next-token cross-entropy over every position. The memory
// engine adds backward and the optimizer; `checkpoint: true` checkpoints every block.
import * as nn from 'memlens/nn';
import { GPT2, GPT2_SMALL } from './gpt2';

export const gpt2Train = nn.entry({
  description: 'GPT-2 small training step (cross-entropy loss)',
  mode: 'train',
  config: { ...GPT2_SMALL, checkpoint: false },
  model: (cfg) => new GPT2(cfg),
  inputs: (cfg) => ({
    input_ids: nn.input(['batch', 'sequence'], 'int64', { range: [0, cfg.vocab] }),
    labels: nn.input(['batch', 'sequence'], 'int64', { range: [0, cfg.vocab] }),
  }),
  forward: (model, { input_ids, labels }, cfg) => {
    if (cfg.checkpoint) for (const block of model.h) nn.checkpoint(block);
    const logits = model.forward(input_ids);
    return { loss: nn.crossEntropy(logits, labels) };
  },
});
