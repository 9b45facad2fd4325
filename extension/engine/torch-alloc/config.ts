// The allocator settings the simulation follows, and a reader for PYTORCH_CUDA_ALLOC_CONF with the
// grammar and checks of c10/core/AllocatorConfig.cpp (AcceleratorAllocatorConfig::parseArgs and
// its ConfigTokenizer): `key:value` pairs separated by commas, lists in brackets, spaces ignored.
// Where the source and its test (AllocatorConfigTest in c10/test) differ by release, the test's
// current expectations are followed.
import { MemlensError } from '../errors';
import { isPowerOf2, LARGE_BUFFER, MiB, MIN_LARGE_ALLOC } from './sizes';

export interface AllocatorConfig {
  /** Blocks this large or larger are never split (max_split_size_mb); Infinity by default. */
  readonly maxSplitSize: number;
  /** A request at or above maxSplitSize may take a cached block up to this much larger (max_non_split_rounding_mb). */
  readonly maxNonSplitRoundingSize: number;
  /** Divisions per power-of-two interval, 16 intervals from 1 MiB (roundup_power2_divisions); 0 = plain 512 B rounding. */
  readonly roundupPower2Divisions: readonly number[];
  /** expandable_segments:True maps pages into one growing segment per pool and stream. */
  readonly expandableSegments: boolean;
  /** Segment for requests of 1 to 10 MiB, and the large pool's page with expandable segments (large_segment_size_mb). */
  readonly largeSegmentSize: number;
}

export const ROUNDUP_INTERVALS = 16;

export const DEFAULT_ALLOCATOR_CONFIG: AllocatorConfig = {
  maxSplitSize: Infinity,
  maxNonSplitRoundingSize: LARGE_BUFFER,
  roundupPower2Divisions: new Array<number>(ROUNDUP_INTERVALS).fill(0),
  expandableSegments: false,
  largeSegmentSize: LARGE_BUFFER,
};

export interface ParsedAllocConf {
  readonly config: AllocatorConfig;
  /** Settings read but not simulated, one line each saying why. */
  readonly notSimulated: readonly string[];
}

/** Keys with no effect on device memory figures, or outside what is simulated. */
const IGNORED: Record<string, string> = {
  release_lock_on_cudamalloc: 'only changes locking',
  pinned_use_cuda_host_register: 'a host (pinned) memory option',
  pinned_num_register_threads: 'a host (pinned) memory option',
  pinned_use_background_threads: 'a host (pinned) memory option',
  pinned_reserve_segment_size_mb: 'a host (pinned) memory option',
  graph_capture_record_stream_reuse: 'CUDA graph capture is not simulated',
  garbage_collection_threshold: 'garbage collection runs only under set_per_process_memory_fraction, which is not simulated',
};

function bad(message: string): never {
  throw new MemlensError(`PYTORCH_CUDA_ALLOC_CONF: ${message}`);
}

function tokenize(text: string): string[] {
  const out: string[] = [];
  let buf = '';
  for (const ch of text) {
    if (ch === ',' || ch === ':' || ch === '[' || ch === ']') {
      if (buf) out.push(buf);
      buf = '';
      out.push(ch);
    } else if (!/\s/.test(ch)) buf += ch;
  }
  if (buf) out.push(buf);
  return out;
}

function megabytes(key: string, value: string | undefined, min: number, strict: boolean): number {
  if (value === undefined || !/^\d+$/.test(value)) bad(`${key} expects a whole number of MiB, got '${value ?? ''}'`);
  const n = Number(value);
  if (strict ? n <= min : n < min) bad(`${key} must be ${strict ? '>' : '>='} ${min}, got ${n}`);
  return n * MiB;
}

function boolean(key: string, value: string | undefined): boolean {
  if (value !== 'True' && value !== 'False') bad(`${key} expects True or False, got '${value ?? ''}'`);
  return value === 'True';
}

export function parseAllocConf(text: string): ParsedAllocConf {
  const t = tokenize(text);
  const cfg = { ...DEFAULT_ALLOCATOR_CONFIG, roundupPower2Divisions: [...DEFAULT_ALLOCATOR_CONFIG.roundupPower2Divisions] };
  const notSimulated: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const key = t[i];
    if (t[i + 1] !== ':') bad(`expected ':' after '${key}'`);
    i += 2;
    if (key === 'max_split_size_mb') cfg.maxSplitSize = megabytes(key, t[i], LARGE_BUFFER / MiB, false);
    else if (key === 'max_non_split_rounding_mb') cfg.maxNonSplitRoundingSize = megabytes(key, t[i], LARGE_BUFFER / MiB, false);
    else if (key === 'large_segment_size_mb') cfg.largeSegmentSize = megabytes(key, t[i], MIN_LARGE_ALLOC / MiB, true);
    else if (key === 'expandable_segments') cfg.expandableSegments = boolean(key, t[i]);
    else if (key === 'roundup_power2_divisions') i = parseDivisions(t, i, cfg.roundupPower2Divisions);
    else if (key === 'backend') {
      if (t[i] === 'cudaMallocAsync') bad("backend:cudaMallocAsync is CUDA's own allocator, which is not simulated");
      if (t[i] !== 'native') bad(`unknown backend '${t[i] ?? ''}' (native or cudaMallocAsync)`);
    } else if (key in IGNORED) {
      if (t[i] === '[') while (i < t.length && t[i] !== ']') i++;
      notSimulated.push(`${key}: ${IGNORED[key]}`);
    } else bad(`unrecognized key '${key}'`);
    if (i + 1 < t.length && t[++i] !== ',') bad(`expected ',' after the value of '${key}'`);
  }
  if (cfg.maxSplitSize < cfg.largeSegmentSize) bad(`max_split_size_mb (${cfg.maxSplitSize / MiB}) must be >= large_segment_size_mb (${cfg.largeSegmentSize / MiB})`);
  return { config: cfg, notSimulated };
}

/** `roundup_power2_divisions:N` or `[64:8,256:4,>:1]`, interval keys in MiB; returns the index of the last token read. */
function parseDivisions(t: string[], i: number, div: number[]): number {
  if (t[i] !== '[') {
    const n = Number(t[i]);
    if (!/^\d+$/.test(t[i] ?? '') || !isPowerOf2(n)) bad(`roundup_power2_divisions must be a power of 2, got '${t[i] ?? ''}'`);
    div.fill(n);
    return i;
  }
  let first = true, last = 0;
  for (i++; i < t.length && t[i] !== ']'; i++) {
    const interval = t[i];
    if (t[i + 1] !== ':' || !/^\d+$/.test(t[i + 2] ?? '')) bad(`roundup_power2_divisions: expected 'interval:divisions' at '${interval}'`);
    const n = Number(t[i + 2]);
    if (n !== 0 && !isPowerOf2(n)) bad(`roundup_power2_divisions: divisions must be a power of 2 or 0, got ${n}`);
    // '>' covers the intervals after the last one listed (as AllocatorConfigTest expects: [..., 1024:4, >:1] keeps 1024 MiB at 4).
    if (interval === '>') div.fill(n, first ? 0 : last + 1);
    else {
      const mb = Number(interval);
      if (!/^\d+$/.test(interval) || !isPowerOf2(mb)) bad(`roundup_power2_divisions: intervals must be powers of 2 (MiB), got '${interval}'`);
      const index = Math.min(Math.log2(mb), div.length - 1);
      if (first) div.fill(n, 0, index);
      first = false;
      div[index] = n;
      last = index;
    }
    i += 2;
    if (t[i + 1] !== ']' && t[++i] !== ',') bad("roundup_power2_divisions: expected ',' between entries");
  }
  if (t[i] !== ']') bad("roundup_power2_divisions: missing ']'");
  return i;
}
