// From a file the user points at to a Model: picks the front end by file type. Front ends that
// execute user code (TypeScript tracing, Python export) are loaded on first use and run in a
// child process with a time limit; the ONNX path reads the file and nothing else.
import * as fs from 'node:fs/promises';
import type { Model } from '../engine/graph';
import type { ScriptStep } from '../../language/python/script-step';
import { MemlensError } from '../engine/errors';
import { formatBytes } from '../engine/units';
import { decodeModel } from '../engine/onnx/decode';
import type { AnalysisSettings } from '../engine/settings';
import { modelKind, type ModelKind } from './model-kind';

/** Which settings the user chose (a flag, a setting they wrote). The others are defaults that a
 * front end may replace with what the model file itself says (a script's batch, its optimizer). */
export interface GivenSettings {
  /** Unset, a TypeScript entry's own `mode` ('train' or 'infer') is profiled. */
  mode: boolean;
  batch: boolean;
  seq: boolean;
  optimizer: boolean;
}

export interface LoadOptions {
  entry?: string;
  settings: AnalysisSettings;
  /** Whether user code may run (workspace trust; the CLI is trusted by the user invoking it). */
  trusted: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  pythonPath?: string;
  /** Default: every setting was chosen (front ends keep them all). */
  given?: GivenSettings;
  /** Trace TypeScript models and export Python ones in the kept workers (the editor: one profile after another). */
  keepWorkers?: boolean;
}

export interface LoadedModel {
  model: Model;
  /** The entry that was analysed (TypeScript/Python), null for ONNX files. */
  entry: string | null;
  kind: ModelKind;
  /** Path of an ONNX file holding the model, when the front end wrote one (for the runner). */
  onnxPath?: string;
  /** Settings the model file decided because the user left them (see GivenSettings). */
  settings?: Partial<Pick<AnalysisSettings, 'mode' | 'batch' | 'seq' | 'optimizer' | 'sizedByExport' | 'fromCode'>>;
  /** One line each, for the profile's warnings. */
  warnings?: string[];
  /** A Python model found by running its script: what the script does in its first step. */
  step?: ScriptStep | null;
  /** Identifies the model by content when the front end knows it cheaply (an export's bytes and
   * annotations): a profile of an equal hash with the same settings can be reused. */
  contentHash?: string;
}

export async function loadModel(file: string, options: LoadOptions): Promise<LoadedModel> {
  const kind = modelKind(file);
  if (!kind) throw new MemlensError(`${file}: not a model file MemLens reads (.onnx, .ts or .py)`);
  const size = await ensureReadable(file);
  switch (kind) {
    case 'onnx': {
      // Protobuf caps a message at 2 GiB, and Node cannot read such a file into one buffer.
      if (size >= 2 ** 31) throw new MemlensError(`${file}: ${formatBytes(size)}, over the 2 GiB a single ONNX protobuf can hold; keep the weights as external data`);
      const bytes = await fs.readFile(file);
      return { model: decodeModel(bytes, file), entry: null, kind, onnxPath: file };
    }
    case 'typescript':
      return (await import('./load-typescript')).loadTypeScript(file, options);
    case 'python':
      return (await import('./load-python')).loadPython(file, options);
  }
}

/** The file's size; a folder, a missing or unreadable file is one line. */
async function ensureReadable(file: string): Promise<number> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new MemlensError(`${file}: not a file`);
    return st.size;
  } catch (e) {
    if (e instanceof MemlensError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new MemlensError(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${code ?? (e as Error).message})`);
  }
}
