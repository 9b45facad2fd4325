// The ONNX Runtime session that will run a model on this machine, as the engine's held-memory model
// needs it: the intra-op pool (ORT's default, one thread per core, which sizes Conv scratch) and the
// MLAS kernels the CPU provider dispatches to (they size quantised GEMMs' packed weights).
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { MlasKernels } from '../engine/ort/mlas-kernels';

export interface LocalOrtSession {
  intraOpThreads: number;
  runs: number;
  optimised?: boolean;
  kernels: MlasKernels;
}

/**
 * platform.cpp takes the AMX U8S8 kernel where CPUID reports AMX-TILE and AMX-INT8 and the OS has
 * enabled the tile state (XCR0) and grants it (MlasInitAMX's arch_prctl). Linux lists `amx_tile`
 * and `amx_int8` among a CPU's flags only when the kernel supports that state, so the flags stand
 * for all three; any other platform (or an unreadable /proc) is taken as a CPU without AMX.
 */
export function parseMlasKernels(cpuinfo: string): MlasKernels {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '';
  const flags = new Set(line.trim().split(/\s+/));
  return { u8s8: flags.has('amx_tile') && flags.has('amx_int8') ? 'amx' : 'avx' };
}

let detected: MlasKernels | undefined;

/** This machine's MLAS kernels (read once per process). */
export function localMlasKernels(): MlasKernels {
  if (!detected) {
    let cpuinfo = '';
    if (process.platform === 'linux' && process.arch === 'x64') {
      try {
        cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
      } catch {
        // no /proc: no AMX assumed
      }
    }
    detected = parseMlasKernels(cpuinfo);
  }
  return detected;
}

/** The session ORT makes here by default: a thread per core, this CPU's kernels. */
export function localOrtSession(runs: number, optimised?: boolean): LocalOrtSession {
  return { intraOpThreads: os.availableParallelism(), runs, ...(optimised !== undefined ? { optimised } : {}), kernels: localMlasKernels() };
}
