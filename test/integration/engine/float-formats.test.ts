// The narrow float formats bit for bit against independent references: numpy's float16 (every
// code decoded; float32 and float64 values encoded) and ONNX Runtime's own Cast for bfloat16 and
// float8 e4m3fn (every code decoded; a dense set of float32 values encoded). The value sets hold
// every code's value, every midpoint between neighbours (the ties), one float32/float64 step on
// each side of both, the overflow and underflow edges, +-0, +-inf and NaN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import type { DType, Model } from '../../../extension/engine/graph';
import { BFLOAT16, FLOAT16, FLOAT8E4M3FN, decodeFloat, encodeFloat, type FloatFormat } from '../../../extension/engine/onnx/float-formats';
import { dtypeCode } from '../../../extension/engine/onnx/dtype-codes';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { seededRng } from '../../../extension/engine/seeded-random';

const PYTHON = '/usr/bin/python3';

// ---------------------------------------------------------------- value sets

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The float32 `steps` representable values away from float32 `x` (negative: toward -inf). */
function float32Step(x: number, steps: number): number {
  f32[0] = x;
  if (x === 0) u32[0] = steps > 0 ? 1 : 0x80000001;
  else u32[0] += (x > 0) === (steps > 0) ? 1 : -1;
  return f32[0];
}

function float64Step(x: number, steps: number): number {
  f64[0] = x;
  if (x === 0) u64[0] = steps > 0 ? 1n : 0x8000000000000001n;
  else u64[0] += (x > 0) === (steps > 0) ? 1n : -1n;
  return f64[0];
}

/** Positive finite values of the format with the midpoint to the next value above each (the last one's is the overflow edge). */
function valuesAndTies(format: FloatFormat): { value: number; tie: number }[] {
  const out: { value: number; tie: number }[] = [];
  for (let code = 0; code <= format.maxFiniteCode; code++) {
    const value = decodeFloat(format, code);
    const next = code < format.maxFiniteCode ? decodeFloat(format, code + 1) : 2 * value - decodeFloat(format, code - 1);
    out.push({ value, tie: (value + next) / 2 });
  }
  return out;
}

const SPECIALS = [0, -0, Infinity, -Infinity, NaN, 3.4028234663852886e38, -3.4028234663852886e38, 2 ** -149, -(2 ** -149), 1e-45, 1e30, -1e30];

/** Every value and tie of the format, one float32 step either side of each, both signs, and random float32 values. */
function float32Set(format: FloatFormat, randomCount: number): Float32Array {
  const xs: number[] = [...SPECIALS];
  for (const { value, tie } of valuesAndTies(format)) {
    for (const x of [value, tie]) {
      for (const y of [x, float32Step(x, 1), float32Step(x, -1)]) xs.push(y, -y);
    }
  }
  const rng = seededRng(0xf10a7);
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  const maxBinade = format.minExponent + (format.maxFiniteCode >> format.mantissaBits);
  while (xs.length < randomCount) {
    // Half over every float32 bit pattern, half inside the format's binades (where rounding happens).
    bits[0] = Math.floor(rng() * 2 ** 32);
    if (!Number.isNaN(asFloat[0])) xs.push(asFloat[0]);
    const binade = format.minExponent - format.mantissaBits - 2 + Math.floor(rng() * (maxBinade - format.minExponent + format.mantissaBits + 4));
    xs.push((rng() < 0.5 ? -1 : 1) * (1 + rng()) * 2 ** binade);
  }
  return Float32Array.from(xs);
}

/** float16 values and ties one float64 step either side (where rounding through float32 first would go wrong), and random doubles. */
function float64Set(randomCount: number): Float64Array {
  const xs: number[] = [...SPECIALS];
  for (const { value, tie } of valuesAndTies(FLOAT16)) {
    for (const x of [value, tie]) {
      for (const y of [float64Step(x, 1), float64Step(x, -1)]) xs.push(y, -y);
    }
  }
  const rng = seededRng(0xd0b1e);
  while (xs.length < randomCount) xs.push((rng() < 0.5 ? -1 : 1) * (1 + rng()) * 2 ** (-27 + Math.floor(rng() * 45)));
  return Float64Array.from(xs);
}

// ---------------------------------------------------------------- references

const NUMPY = `
import sys, numpy as np
mode, data = sys.argv[1], sys.stdin.buffer.read()
with np.errstate(all='ignore'):
    if mode == 'decode': out = np.arange(65536, dtype='<u2').view('<f2').astype('<f8')
    else: out = np.frombuffer(data, '<' + mode).astype('<f2').view('<u2')
sys.stdout.buffer.write(out.tobytes())
`;

function numpy(mode: 'decode' | 'f4' | 'f8', input: Uint8Array = new Uint8Array()): Buffer {
  const r = spawnSync(PYTHON, ['-c', NUMPY, mode], { input, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `numpy failed: ${r.stderr?.toString()}`);
  return r.stdout;
}

const castTo = (to: number) => ({ kind: 'int' as const, value: to });

function castModel(nodes: { input: string; to: number; output: string }[], graph: Pick<Model['graph'], 'inputs' | 'initializers'>, outputs: number): Model {
  return {
    irVersion: 9, producer: 'test', opsets: { '': 19 }, metadata: {},
    graph: {
      name: 'cast', valueInfo: new Map(), ...graph,
      outputs: [{ name: 'y', dtype: 'float32', shape: [outputs] }],
      nodes: nodes.map((n, i) => ({ name: `cast${i}`, opType: 'Cast', domain: '', inputs: [n.input], outputs: [n.output], attributes: { to: castTo(n.to) }, metadata: {} })),
    },
  };
}

async function runOrt(model: Model, feeds: Record<string, ort.Tensor>): Promise<Uint32Array> {
  const session = await ort.InferenceSession.create(encodeModel(model), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  try {
    const y = (await session.run(feeds)).y.data as Float32Array;
    return new Uint32Array(y.buffer, y.byteOffset, y.length);
  } finally {
    await session.release();
  }
}

function code(dtype: DType): number {
  const c = dtypeCode(dtype);
  assert.ok(c !== null);
  return c;
}

/** ONNX Runtime's float32 value of every code of `dtype` (an initializer holding all codes, cast to float). */
function ortDecodeAll(dtype: DType, codeBytes: number): Promise<Uint32Array> {
  const count = 2 ** (8 * codeBytes);
  const raw = codeBytes === 1 ? Uint8Array.from({ length: count }, (_, i) => i) : new Uint8Array(Uint16Array.from({ length: count }, (_, i) => i).buffer);
  const initializers = new Map([['codes', { name: 'codes', dtype, dims: [count], raw, external: false }]]);
  return runOrt(castModel([{ input: 'codes', to: code('float32'), output: 'y' }], { inputs: [], initializers }, count), {});
}

/** ONNX Runtime's float32 -> `dtype` -> float32 for each value (Cast's default saturate=1). */
function ortRoundTrip(dtype: DType, xs: Float32Array): Promise<Uint32Array> {
  const nodes = [{ input: 'x', to: code(dtype), output: 'narrow' }, { input: 'narrow', to: code('float32'), output: 'y' }];
  return runOrt(castModel(nodes, { inputs: [{ name: 'x', dtype: 'float32', shape: [xs.length] }], initializers: new Map() }, xs.length), { x: new ort.Tensor('float32', xs, [xs.length]) });
}

// ---------------------------------------------------------------- comparisons

const isNanBits32 = (b: number) => (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;
const bits32 = (x: number) => ((f32[0] = x), u32[0]);
const hex = (n: number) => `0x${n.toString(16)}`;

/** Mismatches (at most a few, for the message) and their count; NaN matches NaN of any payload. */
function mismatches<T>(count: number, check: (i: number) => T | null): { count: number; first: T[] } {
  const first: T[] = [];
  let n = 0;
  for (let i = 0; i < count; i++) {
    const bad = check(i);
    if (bad === null) continue;
    n++;
    if (first.length < 5) first.push(bad);
  }
  return { count: n, first };
}

function assertNone(result: { count: number; first: unknown[] }, what: string): void {
  assert.equal(result.count, 0, `${what}: ${result.count} differ, e.g. ${JSON.stringify(result.first)}`);
}

test('float16: every one of the 65,536 codes decodes to numpy\'s value', () => {
  const ref = new Float64Array(new Uint8Array(numpy('decode')).buffer);
  assert.equal(ref.length, 65536);
  assertNone(mismatches(65536, (c) => {
    const ours = decodeFloat(FLOAT16, c);
    return (Number.isNaN(ref[c]) ? Number.isNaN(ours) : Object.is(ours, ref[c])) ? null : { code: hex(c), numpy: ref[c], ours };
  }), 'decoded codes');
});

test('float16: float32 values encode to numpy\'s codes', () => {
  const xs = float32Set(FLOAT16, 1_000_000);
  const ref = new Uint16Array(new Uint8Array(numpy('f4', new Uint8Array(xs.buffer))).buffer);
  assert.equal(ref.length, xs.length);
  assertNone(mismatches(xs.length, (i) => {
    const ours = encodeFloat(FLOAT16, xs[i]);
    return ours === ref[i] ? null : { x: xs[i], numpy: hex(ref[i]), ours: hex(ours) };
  }), `${xs.length} float32 values`);
});

test('float16: float64 values round once, as numpy rounds float64 to float16', () => {
  const xs = float64Set(600_000);
  const ref = new Uint16Array(new Uint8Array(numpy('f8', new Uint8Array(xs.buffer))).buffer);
  assertNone(mismatches(xs.length, (i) => {
    const ours = encodeFloat(FLOAT16, xs[i]);
    return ours === ref[i] ? null : { x: xs[i], numpy: hex(ref[i]), ours: hex(ours) };
  }), `${xs.length} float64 values`);
});

for (const { format, dtype, bytes, randomCount } of [
  { format: FLOAT8E4M3FN, dtype: 'float8e4m3fn' as const, bytes: 1, randomCount: 400_000 },
  { format: BFLOAT16, dtype: 'bfloat16' as const, bytes: 2, randomCount: 1_000_000 },
]) {
  test(`${dtype}: every code decodes to ONNX Runtime's value, and distinct codes to distinct values`, async () => {
    const ref = await ortDecodeAll(dtype, bytes);
    assertNone(mismatches(ref.length, (c) => {
      const ours = decodeFloat(format, c);
      const same = isNanBits32(ref[c]) ? Number.isNaN(ours) : bits32(ours) === ref[c];
      return same ? null : { code: hex(c), ort: hex(ref[c]), ours };
    }), 'decoded codes');
    // So a value read back through Cast names one code: the round trips below compare codes.
    const finite = Array.from(ref).filter((b) => !isNanBits32(b));
    assert.equal(new Set(finite).size, finite.length);
  });

  test(`${dtype}: float32 values encode to ONNX Runtime's Cast codes (saturating)`, async () => {
    const xs = float32Set(format, randomCount);
    const ref = await ortRoundTrip(dtype, xs);
    assertNone(mismatches(xs.length, (i) => {
      const ours = encodeFloat(format, xs[i]);
      const back = decodeFloat(format, ours);
      const same = isNanBits32(ref[i]) ? Number.isNaN(back) : bits32(back) === ref[i];
      return same ? null : { x: xs[i], ort: hex(ref[i]), ours: hex(ours) };
    }), `${xs.length} float32 values`);
  });
}
