// Reads `.safetensors` weights (8-byte little-endian header length, JSON header, raw data) by name.
import * as fs from 'fs';
import type { DType } from '../../extension/engine/graph';
import { MemlensError } from '../../extension/engine/errors';
import type { LoadedWeight } from './api/trace-model';
import { displayPath } from './display-path';

const DTYPES: Record<string, DType> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function readSafetensors(file: string): Map<string, LoadedWeight> {
  const where = displayPath(file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new MemlensError(`${where}: cannot read weights (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (bytes.length < 8) throw new MemlensError(`${where}: not a safetensors file (too short)`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength <= 0 || 8 + headerLength > bytes.length) throw new MemlensError(`${where}: not a safetensors file (bad header length)`);
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as typeof header;
  } catch {
    throw new MemlensError(`${where}: not a safetensors file (header is not JSON)`);
  }
  const data = bytes.subarray(8 + headerLength);
  const out = new Map<string, LoadedWeight>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as HeaderEntry;
    const dtype = DTYPES[e.dtype];
    if (!dtype) throw new MemlensError(`${where}: tensor ${name} has unsupported dtype ${e.dtype}`);
    const [start, end] = e.data_offsets;
    if (end > data.length || start > end) throw new MemlensError(`${where}: tensor ${name} lies outside the file`);
    out.set(name, { dtype, dims: e.shape, raw: new Uint8Array(data.buffer, data.byteOffset + start, end - start) });
  }
  return out;
}
