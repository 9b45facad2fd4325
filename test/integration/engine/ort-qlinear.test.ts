// QLinearConv's prepacked weights and kernel scratch (engine/ort/prepack.ts, scratch.ts) in the
// default-optimised session, against a real onnxruntime-node session. Each model is u8 in, one
// QLinearConv (s8 weights, per-channel zero points of 0), u8 out: ORT's NHWC transformer turns it
// into com.microsoft QLinearConv with channels_last between two Transposes, so the conv's scratch
// is the session's peak. The cases cover the symmetric MlasConvSym path (C a multiple of 4), the
// MlasGemmPackBSize path with its int32 output and im2col buffer (C = 3) and a pointwise kernel.
// com.microsoft QGemm (what ORT fuses a QDQ Gemm into) checks its packed B, the transposed-B copy
// its packer frees at load, and the int32 output it requantises from.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeModel } from '../../../extension/engine/analyze';
import type { GraphNode, Initializer, Model } from '../../../extension/engine/graph';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { encodeValues, type EncodableDType } from '../../../extension/engine/onnx/raw-data';
import { withDefaults } from '../../../extension/engine/settings';
import { optimisedGraph } from '../../../extension/runner/optimised-graph';
import { runModel } from '../../../extension/runner/run';
import { localOrtSession } from '../../../extension/analysis/local-ort-session';

const RUNS = 2;
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-qlinear-test-'));

interface ConvCase { label: string; c: number; m: number; h: number; k: number; stride: number; pad: number }

const init = (name: string, dtype: EncodableDType, dims: number[], values: number[]): Initializer =>
  ({ name, dtype, dims, external: false, raw: encodeValues(dtype, values) });

const ints = (value: number[]) => ({ kind: 'ints' as const, value });

function qlinearConvModel({ c, m, h, k, stride, pad }: ConvCase): Model {
  const out = Math.floor((h + 2 * pad - k) / stride) + 1;
  const inits = [
    init('xs', 'float32', [], [0.02]), init('xz', 'uint8', [], [128]),
    init('w', 'int8', [m, c, k, k], Array.from({ length: m * c * k * k }, (_, i) => ((i * 7) % 11) - 5)),
    init('ws', 'float32', [m], new Array<number>(m).fill(0.01)), init('wz', 'int8', [m], new Array<number>(m).fill(0)),
    init('ys', 'float32', [], [0.05]), init('yz', 'uint8', [], [128]), init('b', 'int32', [m], new Array<number>(m).fill(3)),
  ];
  const conv: GraphNode = {
    name: 'conv', opType: 'QLinearConv', domain: '', metadata: {},
    inputs: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'b'], outputs: ['y'],
    attributes: { kernel_shape: ints([k, k]), strides: ints([stride, stride]), pads: ints([pad, pad, pad, pad]) },
  };
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 13 }, metadata: {},
    graph: {
      name: 'qlinearconv', inputs: [{ name: 'x', dtype: 'uint8', shape: [1, c, h, h] }],
      outputs: [{ name: 'y', dtype: 'uint8', shape: [1, m, out, out] }],
      initializers: new Map(inits.map((t) => [t.name, t])), nodes: [conv], valueInfo: new Map(),
    },
  };
}

const CASES: ConvCase[] = [
  { label: 'gemm path (C = 3): int32 output + im2col', c: 3, m: 32, h: 96, k: 3, stride: 1, pad: 1 },
  { label: 'gemm path, pointwise: int32 output only', c: 3, m: 32, h: 96, k: 1, stride: 1, pad: 0 },
  { label: 'symmetric path (C = 8): indirection buffer', c: 8, m: 32, h: 96, k: 3, stride: 1, pad: 1 },
  { label: 'symmetric path, stride 2', c: 32, m: 64, h: 96, k: 3, stride: 2, pad: 1 },
];

/** y = QGemm(a[m, k] u8, B[n, k] s8, transB = 1) with a quantised output. */
function qgemmModel(m: number, k: number, n: number): Model {
  const inits = [
    init('as', 'float32', [], [0.02]), init('az', 'uint8', [], [128]),
    init('b', 'int8', [n, k], Array.from({ length: n * k }, (_, i) => ((i * 7) % 11) - 5)),
    init('bs', 'float32', [], [0.01]), init('bz', 'int8', [], [0]), init('c', 'int32', [n], new Array<number>(n).fill(1)),
    init('ys', 'float32', [], [0.05]), init('yz', 'uint8', [], [128]),
  ];
  const qgemm: GraphNode = {
    name: 'qgemm', opType: 'QGemm', domain: 'com.microsoft', metadata: {},
    inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'c', 'ys', 'yz'], outputs: ['y'], attributes: { transB: { kind: 'int', value: 1 } },
  };
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 13, 'com.microsoft': 1 }, metadata: {},
    graph: {
      name: 'qgemm', inputs: [{ name: 'a', dtype: 'uint8', shape: [m, k] }], outputs: [{ name: 'y', dtype: 'uint8', shape: [m, n] }],
      initializers: new Map(inits.map((t) => [t.name, t])), nodes: [qgemm], valueInfo: new Map(),
    },
  };
}

/** The measured arena peaks agree to 0.1% (the packed-weight chunks' placement differs by at most a few KiB). */
const MAX_ERROR = 0.001;

/** Estimates the optimised graph ORT writes for `model` and checks it against a real session's arena peak and held bytes. */
async function checkAgainstOrt(name: string, model: Model, op: string): Promise<void> {
  const file = path.join(cacheDir, `${name}.onnx`);
  fs.writeFileSync(file, encodeModel(model));
  const graph = await optimisedGraph(file, { cacheDir, timeoutMs: 120_000 });
  const optimised = decodeModel(fs.readFileSync(graph.path), graph.path);
  assert.ok(optimised.graph.nodes.some((n) => n.domain === 'com.microsoft' && n.opType === op), `ORT's optimised graph has no com.microsoft ${op}`);
  const ortSession = localOrtSession(RUNS, true);
  const estimate = analyzeModel(optimised, withDefaults({}), { source: graph.path, entry: null, ortSession }).ortHeld!;
  const r = await runModel({ model: { path: file }, ep: 'cpu', runs: RUNS }, { timeoutMs: 120_000 });
  assert.ok(r.optimised, 'the runner made no optimised session');
  assert.equal(r.optimised.peakSource, 'arena-peak');
  const measured = r.optimised.peakBytes;
  const off = Math.abs(estimate.arenaInUsePeakBytes - measured) / measured;
  assert.ok(off <= MAX_ERROR, `${name}: estimate ${estimate.arenaInUsePeakBytes} B vs ORT ${measured} B (${(off * 100).toFixed(2)}% off)`);
  // Held bytes: the regions and reserved blocks; within a 256-byte chunk (a K = 3 packing measures 96 B under MlasGemmPackBSize's figure).
  assert.ok(r.optimised.arenaHeldBytes !== null, `${name}: ORT reported no held bytes`);
  const heldOff = Math.abs(estimate.arenaHeldBytes - r.optimised.arenaHeldBytes);
  assert.ok(heldOff <= 256, `${name}: held ${estimate.arenaHeldBytes} B vs ORT ${r.optimised.arenaHeldBytes} B`);
  // The packed weights and scratch are a real part of the peak: without them the bound would fail.
  assert.ok((estimate.scratchPeakBytes + estimate.prepackedBytes) / measured > 10 * MAX_ERROR, `${name}: packing and scratch are no real part of ${measured} B`);
  assert.ok(estimate.prepackedBytes > 0, `${name}: nothing prepacked`);
  // The attribution session (optimisations and prepacking off) runs the model as written: the
  // kernel reorders or transposes its weight per call and takes the unpacked paths' buffers.
  const original = decodeModel(fs.readFileSync(file), file);
  const unpacked = analyzeModel(original, withDefaults({}), { source: file, entry: null, ortSession: { ...ortSession, optimised: false } }).ortHeld!;
  const offUnpacked = Math.abs(unpacked.arenaInUsePeakBytes - r.attribution.peakBytes) / r.attribution.peakBytes;
  assert.ok(offUnpacked <= MAX_ERROR, `${name}, prepacking off: estimate ${unpacked.arenaInUsePeakBytes} B vs ORT ${r.attribution.peakBytes} B`);
}

describe('QLinearConv prepacked weights and scratch, against a real optimised session', () => {
  for (const cs of CASES) {
    it(cs.label, () => checkAgainstOrt(`qlinearconv-${cs.c}-${cs.m}-${cs.k}-${cs.stride}`, qlinearConvModel(cs), 'QLinearConv'));
  }
});

describe('QGemm prepacked B and scratch, against a real optimised session', () => {
  // [4, 512] x [1000, 512]^T: the load peak (packed B + the K x N transposed copy) is the session's peak.
  it('a large B: the load-time transposed copy sets the peak', () => checkAgainstOrt('qgemm-4-512-1000', qgemmModel(4, 512, 1000), 'QGemm'));
  // [64, 256] x [300, 256]^T: the run peak (packed B + output + int32 M x N buffer) is.
  it('a tall A: the int32 output buffer sets the peak', () => checkAgainstOrt('qgemm-64-256-300', qgemmModel(64, 256, 300), 'QGemm'));
});
