// Recognising the KV cache: MemLens's model API tags the nodes that write it; exported graphs
// name it (`past_key_values.3.key`, `present.3.value`, `present_key`, `past_value_5`...).

/** Node metadata key set by the TypeScript model API on nodes producing KV-cache tensors. */
export const KV_KEY = 'memlens.kv';

const KV_NAME = /(^|[._/])(past|present)([._]?(key|value)s?|[._]?kv|_key_values)?([._/]|\d|$)/i;

export function isKvName(name: string): boolean {
  return KV_NAME.test(name) || /(^|[._/])(k|v|key|value)_?cache([._/]|\d|$)/i.test(name);
}
