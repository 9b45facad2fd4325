// Runs a model on ONNX Runtime with every intermediate tensor fetched, to compare inferred shapes
// and dtypes with the real ones.
import * as ort from 'onnxruntime-node';
import type { DType, Model, ValueInfo } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import type { InferredTensor } from '../../../extension/engine/shapes/types';

export interface Feed { dtype: DType; shape: number[]; values?: number[] }

function ortTensor(f: Feed): ort.Tensor {
  const n = f.shape.reduce((x, y) => x * y, 1);
  const v = (i: number) => f.values?.[i] ?? 0;
  switch (f.dtype) {
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_x, i) => BigInt(v(i))), f.shape);
    case 'int32': return new ort.Tensor('int32', Int32Array.from({ length: n }, (_x, i) => v(i)), f.shape);
    case 'float16': return new ort.Tensor('float16', new Uint16Array(n), f.shape);
    default: return new ort.Tensor('float32', Float32Array.from({ length: n }, (_x, i) => f.values ? v(i) : ((i % 13) - 6) / 7), f.shape);
  }
}

const ORT_DTYPES: Record<string, DType> = { float32: 'float32', float16: 'float16', int64: 'int64', int32: 'int32', int8: 'int8', uint8: 'uint8', bool: 'bool', float64: 'float64' };

export interface Comparison {
  /** Tensors fetched from ONNX Runtime and compared. */
  compared: number;
  /** One line per tensor whose inferred shape or dtype differs from ONNX Runtime's. */
  mismatches: string[];
}

/**
 * Runs the model on ONNX Runtime with every node output made a graph output, typed with the
 * inferred dtype (a wrong dtype makes the session refuse the model), and compares each tensor's
 * inferred shape and dtype with the one ONNX Runtime returned.
 */
export async function disagreements(m: Model, dims: Record<string, number>, feeds: Record<string, Feed>): Promise<Comparison> {
  const inferred = inferShapes(m, dims);
  const outputs: ValueInfo[] = [];
  const seen = new Set<string>();
  for (const n of m.graph.nodes) {
    for (const o of n.outputs) {
      const t = inferred.tensors.get(o);
      if (o === '' || seen.has(o) || !t || t.dtype === 'undefined') continue;
      seen.add(o);
      outputs.push({ name: o, dtype: t.dtype, shape: null });
    }
  }
  const probe: Model = { ...m, graph: { ...m.graph, outputs, valueInfo: new Map() } };
  const session = await ort.InferenceSession.create(encodeModel(probe), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 2 });
  try {
    const result = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, ortTensor(f)])));
    const bad: string[] = [];
    for (const o of outputs) {
      const actual = result[o.name];
      const mine: InferredTensor = inferred.tensors.get(o.name)!;
      const shape = [...actual.dims];
      const dtype = ORT_DTYPES[actual.type] ?? actual.type;
      if (JSON.stringify(mine.shape) !== JSON.stringify(shape) || mine.dtype !== dtype) {
        bad.push(`${o.name}: inferred ${mine.dtype}${JSON.stringify(mine.shape)}, ONNX Runtime ${dtype}${JSON.stringify(shape)}`);
      }
    }
    return { compared: outputs.length, mismatches: bad };
  } finally {
    await session.release();
  }
}
