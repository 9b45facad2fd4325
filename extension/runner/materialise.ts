// Weights that have no bytes here (placeholders written by encodeModel, or external-data files
// that are missing) are filled with seeded random values before ORT sees the model. The values
// go to one external-data file in the run's work directory, written in chunks, so neither this
// process nor the protobuf 2 GiB limit ever holds them all; the rewrite happens on the protobuf
// message so everything else in the file is kept as it was.
import * as fs from 'fs';
import * as path from 'path';
import type { DType, Model } from '../engine/graph';
import { dtypeBits, isFloatDType } from '../engine/graph';
import { decodeModel, num } from '../engine/onnx/decode';
import { dtypeFromCode } from '../engine/onnx/dtype-codes';
import { UNMATERIALISED_LOCATION } from '../engine/onnx/encode';
import { ModelProto, type PbModel, type PbTensor } from '../engine/onnx/schema';
import { MemlensError } from '../engine/errors';
import { encodeValues } from '../engine/onnx/raw-data';
import { seededRng, type Rng } from '../engine/seeded-random';
import { formatBytes } from '../engine/units';

export const WEIGHTS_FILE = 'materialised-weights.bin';
const CHUNK_ELEMENTS = 1 << 20;
const ALIGN = 4096;
/** Random weights are uniform in [-WEIGHT_RANGE, WEIGHT_RANGE]: small enough that activations stay finite. */
const WEIGHT_RANGE = 0.05;

export interface PreparedModel {
  /** Path ORT should load: the original when nothing needed filling. */
  path: string;
  model: Model;
  weightBytes: number;
  materialised: { tensors: number; bytes: number } | null;
}

export interface PrepareOptions {
  modelPath: string;
  baseDir: string | null;
  where: string;
  memoryLimitBytes: number | null;
  seed: number;
  workDir: string;
}

export function prepareModel(o: PrepareOptions): PreparedModel {
  const bytes = fs.readFileSync(o.modelPath);
  const model = decodeModel(bytes, o.where);
  let weightBytes = 0;
  for (const t of model.graph.initializers.values()) weightBytes += tensorByteSize(t.dtype, t.dims);
  if (o.memoryLimitBytes !== null && weightBytes > o.memoryLimitBytes) {
    throw new MemlensError(
      `${o.where}: weights need ${weightBytes} bytes (${formatBytes(weightBytes)}), over the memory limit of ` +
        `${formatBytes(o.memoryLimitBytes)}; raise the limit or run a smaller configuration`,
    );
  }
  const pb = ModelProto.decode(bytes) as unknown as PbModel;
  const tensors = pb.graph?.initializer ?? [];
  // Before anything is created: every external location must stay inside the model's folder, so
  // neither the existence check nor the links below ever reach outside it or the run directory.
  for (const t of tensors) checkLocation(t, o.where);
  const missing = tensors.filter((t) => t.dataLocation === 1 && !externalFileExists(t, o.baseDir));
  if (missing.length === 0) return { path: o.modelPath, model, weightBytes, materialised: null };

  const rng = seededRng(o.seed ^ 0x5eed);
  const weightsPath = path.join(o.workDir, WEIGHTS_FILE);
  const fd = fs.openSync(weightsPath, 'w');
  let offset = 0;
  let filled = 0;
  try {
    for (const t of missing) {
      const dtype = dtypeFromCode(t.dataType ?? 0);
      const dims = (t.dims ?? []).map(num);
      const length = tensorByteSize(dtype, dims);
      writeRandom(fd, offset, dtype, dims.reduce((a, b) => a * b, 1), length, rng);
      t.externalData = [
        { key: 'location', value: WEIGHTS_FILE },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ];
      filled += length;
      offset += Math.ceil(length / ALIGN) * ALIGN;
    }
  } finally {
    fs.closeSync(fd);
  }
  linkPresentExternalFiles(tensors, o.baseDir, o.workDir);
  const out = path.join(o.workDir, 'materialised.onnx');
  fs.writeFileSync(out, ModelProto.encode(pb).finish());
  return { path: out, model, weightBytes, materialised: { tensors: missing.length, bytes: filled } };
}

export function tensorByteSize(dtype: DType, dims: number[]): number {
  return Math.ceil((dims.reduce((a, b) => a * b, 1) * dtypeBits(dtype)) / 8);
}

function location(t: PbTensor): string | null {
  return t.externalData?.find((e) => e.key === 'location')?.value ?? null;
}

/** One line naming the tensor when its external location is absolute or climbs out with `..`. */
function checkLocation(t: PbTensor, where: string): void {
  const loc = location(t);
  if (t.dataLocation !== 1 || loc === null || loc === UNMATERIALISED_LOCATION) return;
  if (confinedPath('/base', loc) === null) {
    throw new MemlensError(`${where}: initializer '${t.name ?? '?'}' has external data at '${loc.slice(0, 120)}', outside the model's folder; refused`);
  }
}

/**
 * `root` joined with the relative `rel`, or null when the result would leave `root` (absolute
 * paths, `..` segments that climb past it, NUL bytes). Purely lexical: callers create nothing
 * before asking, and `root` is a directory this process made.
 */
export function confinedPath(root: string, rel: string): string | null {
  if (rel.length === 0 || rel.includes('\0') || path.isAbsolute(rel) || path.win32.isAbsolute(rel)) return null;
  const base = path.resolve(root);
  const full = path.resolve(base, rel);
  const back = path.relative(base, full);
  if (back === '' || back === '..' || back.startsWith(`..${path.sep}`) || path.isAbsolute(back)) return null;
  return full;
}

function externalFileExists(t: PbTensor, baseDir: string | null): boolean {
  const loc = location(t);
  if (loc === null || loc === UNMATERIALISED_LOCATION || baseDir === null) return false;
  const full = confinedPath(baseDir, loc);
  return full !== null && fs.existsSync(full);
}

/** The rewritten model lives in the work directory; real external files are linked in beside it. */
function linkPresentExternalFiles(tensors: PbTensor[], baseDir: string | null, workDir: string): void {
  if (baseDir === null) return;
  const done = new Set<string>([WEIGHTS_FILE]);
  for (const t of tensors) {
    const loc = location(t);
    if (t.dataLocation !== 1 || loc === null || done.has(loc) || !externalFileExists(t, baseDir)) continue;
    done.add(loc);
    const link = confinedPath(workDir, loc);
    const target = confinedPath(baseDir, loc);
    // Only regular files are linked, so no earlier link is a directory a later path could pass through.
    if (link === null || target === null || !fs.statSync(target).isFile()) continue;
    fs.mkdirSync(path.dirname(link), { recursive: true });
    const realWork = fs.realpathSync(workDir), realDir = fs.realpathSync(path.dirname(link));
    if (realDir !== realWork && !realDir.startsWith(realWork + path.sep)) continue;
    fs.symlinkSync(target, link);
  }
}

function writeRandom(fd: number, offset: number, dtype: DType, count: number, length: number, rng: Rng): void {
  if (!isFloatDType(dtype)) {
    // Integer and boolean weights (indices, quantised values) stay zero: always in range.
    const zeros = Buffer.alloc(Math.min(length, CHUNK_ELEMENTS * 8));
    for (let at = 0; at < length; at += zeros.length) fs.writeSync(fd, zeros, 0, Math.min(zeros.length, length - at), offset + at);
    return;
  }
  const size = dtypeBits(dtype) / 8;
  let at = offset;
  for (let done = 0; done < count; done += CHUNK_ELEMENTS) {
    const n = Math.min(CHUNK_ELEMENTS, count - done);
    const chunk = randomChunk(dtype, n, rng);
    fs.writeSync(fd, chunk, 0, n * size, at);
    at += n * size;
  }
}

function randomChunk(dtype: DType, n: number, rng: Rng): Uint8Array {
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = (rng() * 2 - 1) * WEIGHT_RANGE;
  return encodeValues(dtype, values);
}
