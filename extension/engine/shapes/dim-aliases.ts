// Names of symbolic dimensions that mean the batch size or the sequence length. Exporters and
// model hubs spell them many ways; these are bound from the batch/seq settings. Matching ignores
// case and treats '-' and ' ' as '_'.
export const BATCH_ALIASES: readonly string[] = [
  'batch', 'batch_size', 'batchsize', 'n', 'b', 'bs', 'bsz', 'num_batches', 'batch_dim', 'unk_batch',
];

export const SEQUENCE_ALIASES: readonly string[] = [
  'sequence', 'seq', 'seq_len', 'seqlen', 'sequence_length', 'seq_length', 'max_seq_len',
  'max_sequence_length', 'past_sequence_length', 'past_seq_len', 'past_sequence', 'past_length',
  'total_sequence_length', 'total_seq_len', 'total_sequence', 'encoder_sequence_length',
  'decoder_sequence_length', 'past_decoder_sequence_length', 'encoder_sequence_length_out',
  'past_encoder_sequence_length', 'num_tokens', 'tokens', 'token', 'time', 't', 'l', 's',
  'context_length', 'ctx_len', 'kv_seq_len', 'cache_length', 'attention_mask_sequence_length',
];

export type DimRole = 'batch' | 'sequence';

/** Sequence dims of a decode step's cache read in (`past_key_values.*`): sized by the past length when one is set. */
export const PAST_ALIASES: readonly string[] = [
  'past_sequence_length', 'past_seq_len', 'past_sequence', 'past_length', 'past_decoder_sequence_length',
  'past_encoder_sequence_length', 'cache_length',
];

/** Sequence dims over the cache and the new tokens (an attention mask): the past length plus the sequence length. */
export const TOTAL_ALIASES: readonly string[] = ['total_sequence_length', 'total_seq_len', 'total_sequence', 'attention_mask_sequence_length'];

/** Which length a sequence dim stands for: the new tokens, the cached past, or both together. */
export type SequenceKind = 'new' | 'past' | 'total';

export function sequenceKind(name: string): SequenceKind {
  const n = normaliseDimName(name);
  return PAST_ALIASES.includes(n) ? 'past' : TOTAL_ALIASES.includes(n) ? 'total' : 'new';
}

/** Normalised form used for matching: lower case, '-' and ' ' as '_'. */
export function normaliseDimName(name: string): string {
  return name.trim().toLowerCase().replace(/[-\s]+/g, '_');
}

const ROLE_BY_NAME = new Map<string, DimRole>([
  ...BATCH_ALIASES.map((n) => [n, 'batch'] as [string, DimRole]),
  ...SEQUENCE_ALIASES.map((n) => [n, 'sequence'] as [string, DimRole]),
]);

/** The role a dim name plays by the alias table, if any. */
export function aliasRole(name: string): DimRole | undefined {
  return ROLE_BY_NAME.get(normaliseDimName(name));
}

/**
 * Names PyTorch's exporters generate when the user did not name a dynamic axis:
 * `s0`, `s1`... (torch.export), `x_dynamic_axes_1` (torch.onnx.export with axis lists),
 * `unk__12` and `dim_3` (shape inference tools), `p2o.DynamicDimension.0` (paddle2onnx). Their role is judged by position.
 */
export const GENERATED_DIM_NAME = /^(s\d+|.+_dynamic_axes_\d+|unk__\d+|dim_?\d+|dynamic_dim_\d+|p2o\.DynamicDimension\.\d+)$/i;
