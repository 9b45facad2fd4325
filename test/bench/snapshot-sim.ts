// `npm run build && node out/test/bench/snapshot-sim.js`: how long the snapshot reader takes on a
// snapshot-shaped pickle of about 16 MiB (written by CPython, timed beside CPython's own C
// unpickler), and how long the caching allocator simulation takes over 200,000 events.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readPickle } from '../../extension/engine/snapshot/pickle-reader';
import { decodeSnapshot } from '../../extension/engine/snapshot/snapshot-decode';
import { simulateAllocator, type AllocatorEvent } from '../../extension/engine/torch-alloc/simulate';
import { formatBytes } from '../../extension/engine/units';

const ROOT = path.resolve(__dirname, '../../..');

function ms(fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return Math.min(...times);
}

/** Seeded allocation events: tensors of 512 B to 64 MiB, freed in a mostly-LIFO order, as a training step's would be. */
function events(n: number): AllocatorEvent[] {
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: AllocatorEvent[] = [];
  const live: string[] = [];
  for (let i = 0; out.length < n; i++) {
    if (live.length && rand() < 0.48) {
      const k = rand() < 0.8 ? live.length - 1 : Math.floor(rand() * live.length);
      out.push({ kind: 'free', id: live.splice(k, 1)[0] });
    } else {
      const bytes = Math.floor(2 ** (9 + rand() * 17));
      out.push({ kind: 'alloc', id: `t${i}`, bytes });
      live.push(`t${i}`);
    }
  }
  return out;
}

function main(): void {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-bench-')), 'snapshot.pickle');
  const pythonMs = Number(execFileSync('/usr/bin/python3', [path.join(ROOT, 'test', 'bench', 'snapshot_like.py'), file]).toString());
  const data = fs.readFileSync(file);
  const readMs = ms(() => readPickle(data));
  const value = readPickle(data);
  const decodeMs = ms(() => decodeSnapshot(value));
  console.log(`snapshot-shaped pickle, ${formatBytes(data.length)}: read ${readMs.toFixed(0)} ms + decode ${decodeMs.toFixed(0)} ms; CPython pickle.loads ${pythonMs.toFixed(0)} ms (ratio ${(readMs / pythonMs).toFixed(1)}x)`);
  const seq = events(200_000);
  const simMs = ms(() => simulateAllocator(seq));
  const r = simulateAllocator(seq);
  console.log(`allocator simulation, ${seq.length} events: ${simMs.toFixed(0)} ms (peak reserved ${formatBytes(r.peakReserved.bytes)}, ${r.atPeak.segments.length} segments at the peak)`);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

main();
