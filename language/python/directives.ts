// `# memlens:` comments: how a user tells MemLens what it cannot infer from a Python file.
//
//   # memlens: entry build_model
//       Build the model with this class (no required constructor arguments) or function
//       (no required arguments; it returns an nn.Module, or (module, example_inputs)).
//   # memlens: input x = (batch, 3, 224, 224) float32
//       One forward input per line, in call order. Dims are integers or names: `batch` and
//       `seq` take the batch size and sequence length from the settings, any other name a
//       value from the `dims` setting (`--dim name=N`). The dtype defaults to float32; integer
//       inputs (token ids, targets) are filled with zeros, a valid index for any vocabulary.
//
// A directive placed directly above a class or function (comments and decorators between them
// are allowed) belongs to it; anywhere else it applies to the whole file.
import type { DType, Dim } from '../../extension/engine/graph';

export interface InputSpec {
  name: string;
  shape: Dim[];
  dtype: DType;
  /** 1-based line of the directive or of the example tensor it came from. */
  line: number;
}

export type Directive =
  | { kind: 'entry'; name: string; line: number }
  | { kind: 'input'; input: InputSpec; line: number }
  | { kind: 'invalid'; message: string; line: number };

const PREFIX = /^#\s*memlens:\s*(.*)$/;
const ENTRY = /^entry\s+([A-Za-z_][A-Za-z0-9_.]*)\s*$/;
const INPUT = /^input\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*\(([^)]*)\)\s*([A-Za-z0-9_.]*)\s*$/;

const DTYPES: Record<string, DType> = {
  float32: 'float32', float: 'float32', fp32: 'float32',
  float16: 'float16', half: 'float16', fp16: 'float16',
  bfloat16: 'bfloat16', bf16: 'bfloat16',
  float64: 'float64', double: 'float64',
  int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int8: 'int8', uint8: 'uint8', bool: 'bool',
};

/** A dtype written as `float32`, `torch.float32` or `torch.long`; undefined when unknown. */
export function dtypeFromName(name: string): DType | undefined {
  return DTYPES[name.replace(/^torch\./, '')];
}

/** Parses one comment's text (with its `#`); null when it is not a memlens directive. */
export function parseDirective(comment: string, line: number): Directive | null {
  const m = PREFIX.exec(comment.trim());
  if (!m) return null;
  const body = m[1].trim();
  const entry = ENTRY.exec(body);
  if (entry) return { kind: 'entry', name: entry[1], line };
  const input = INPUT.exec(body);
  if (!input) {
    return { kind: 'invalid', line, message: `${line}: cannot read "# memlens: ${body}" (expected "entry NAME" or "input NAME = (dims) dtype")` };
  }
  const dims = input[2].split(',').map((d) => d.trim()).filter((d) => d.length > 0);
  const shape: Dim[] = [];
  for (const d of dims) {
    if (/^\d+$/.test(d)) shape.push(Number(d));
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(d)) shape.push(d);
    else return { kind: 'invalid', line, message: `${line}: dimension "${d}" is neither an integer nor a name` };
  }
  const dtypeText = input[3] || 'float32';
  const dtype = dtypeFromName(dtypeText);
  if (!dtype) return { kind: 'invalid', line, message: `${line}: unknown dtype "${dtypeText}"` };
  return { kind: 'input', line, input: { name: input[1], shape, dtype, line } };
}
