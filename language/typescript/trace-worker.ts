// Child process of traceFile: loads a TypeScript model file, finds the entry, traces it and
// sends back the ONNX bytes. User-code errors become one line pointing at the user's file.
import * as fs from 'fs';
import * as path from 'path';
import { MemlensError, type SourceAt } from '../../extension/engine/errors';
import { encodeModel } from '../../extension/engine/onnx/encode';
import { Config, EntrySpec, InputSpec, isEntry } from './api/entry';
import { Module } from './api/module';
import { traceEntry } from './api/trace-model';
import { parseFrames } from './api/source-location';
import { displayPath } from './display-path';
import { readSafetensors } from './safetensors';
import { installTsLoader } from './ts-loader';
import { KEPT_ENV, type TraceReply, type TraceRequest } from './trace-protocol';
import { TraceReuse } from './trace-reuse';

const userFiles = installTsLoader(path.join(__dirname, 'api', 'nn.js'));

type ModuleClass = (new (config?: Config) => Module) & { inputs?: Record<string, InputSpec>; config?: Config };

function isModuleClass(x: unknown): x is ModuleClass {
  return typeof x === 'function' && x.prototype instanceof Module;
}

function isPlainFunction(x: unknown): x is (config?: Config) => unknown {
  return typeof x === 'function' && !/^class[\s{]/.test(Function.prototype.toString.call(x));
}

/** Entry names in a loaded file: entry() objects and Module classes that declare inputs. */
function listEntries(exports: Record<string, unknown>): string[] {
  return Object.entries(exports).filter(([, v]) => isEntry(v) || (isModuleClass(v) && v.inputs)).map(([k]) => k);
}

function resolveEntry(file: string, exports: Record<string, unknown>, name: string | undefined): [string, EntrySpec<Config, Module>] {
  const shown = path.basename(file);
  const entries = listEntries(exports);
  if (name === undefined) {
    if (entries.length === 0) throw new MemlensError(`no model entry found in ${shown}: export a class extending Module or a function returning one`);
    name = entries[0];
  }
  const value = exports[name];
  if (value === undefined) {
    const known = entries.length ? entries.join(', ') : 'none';
    throw new MemlensError(`no entry "${name}" in ${shown} (entries: ${known})`);
  }
  if (isEntry(value)) return [name, value];
  if (isModuleClass(value)) {
    const cls = value;
    if (!cls.inputs) throw new MemlensError(`${shown}: class ${name} declares no inputs: add \`static inputs = { x: nn.input([...]) }\``);
    return [name, { config: cls.config ?? {}, model: (c) => (cls.config ? new cls(c) : new cls()), inputs: cls.inputs }];
  }
  if (isPlainFunction(value)) {
    const factory = value;
    const probe = factory();
    if (!(probe instanceof Module)) throw new MemlensError(`${shown}: ${name}() does not return a Module`);
    const inputs = (probe.constructor as ModuleClass).inputs;
    if (!inputs) throw new MemlensError(`${shown}: ${name}() returns ${probe.constructor.name}, which declares no inputs: add \`static inputs = { ... }\` to the class`);
    let first = true;
    return [name, { config: {}, model: () => (first ? ((first = false), probe) : (factory() as Module)), inputs }];
  }
  throw new MemlensError(`${shown}: export ${name} is not a model entry: export a class extending Module or a function returning one`);
}

/** One line for the user: `file:line: message` at the innermost frame in their files, and that frame. */
function userFailure(e: unknown): { ok: false; message: string; at?: SourceAt } {
  if (!(e instanceof Error)) return { ok: false, message: `model code threw ${String(e)}` };
  const frame = parseFrames(e.stack).find((f) => userFiles.has(f.file));
  const first = e.message.split('\n')[0];
  // TypeError, RangeError... keep their name; plain and MemLens errors are just the message.
  const message = e.name === 'Error' || e instanceof MemlensError ? first : `${e.name}: ${first}`;
  if (!frame) return { ok: false, message };
  const at = { file: frame.file, line: frame.line };
  if (!message.startsWith(displayPath(frame.file))) return { ok: false, message: `${displayPath(frame.file)}:${frame.line}: ${message}`, at };
  return { ok: false, message, at };
}

function handle(req: TraceRequest): TraceReply {
  const file = path.resolve(req.file);
  let exports: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's model file, through ts-loader's hook
    exports = require(file) as Record<string, unknown>;
  } catch (e) {
    // MODULE_NOT_FOUND for an import of the file names the file in its require stack: only a
    // file that is not there is "not found".
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && !fs.existsSync(file)) {
      return { ok: false, message: `${displayPath(file)}: file not found` };
    }
    return userFailure(e);
  }
  try {
    const [name, spec] = resolveEntry(file, exports, req.entry);
    const weights = req.weights ? readSafetensors(req.weights) : undefined;
    const traced = traceEntry(name, spec, {
      materialize: req.materialize || weights !== undefined,
      seed: req.seed,
      ...(req.dtype ? { dtype: req.dtype } : {}),
      ...(req.config ? { config: req.config } : {}),
      ...(weights ? { weights } : {}),
    });
    return { ok: true, model: encodeModel(traced.model), description: traced.description, entries: listEntries(exports), reused: false };
  } catch (e) {
    return userFailure(e);
  }
}

// Orphaned (the caller went away): nothing is waiting for the trace.
process.on('disconnect', () => process.exit(1));

/** Exits once what the model printed has reached the caller (writes to a pipe are queued, and exit drops the queue). */
function exitFlushed(): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(0)));
}

/**
 * Each trace of a kept worker loads the user's files afresh (their module state starts clean), so
 * they leave the require cache; the transpile cache keeps every file whose text is unchanged.
 */
function forgetUserFiles(): void {
  for (const file of userFiles.keys()) delete require.cache[file];
  userFiles.clear();
}

/** Replies after what the model printed has been handed to the pipes. */
function replyFlushed(reply: TraceReply): void {
  process.stdout.write('', () => process.stderr.write('', () => process.send?.(reply)));
}

if (process.env[KEPT_ENV] === '1') {
  const reuse = new TraceReuse();
  process.on('message', (req: TraceRequest) => {
    const again = reuse.lookup(req);
    if (again) return replyFlushed(again);
    forgetUserFiles();
    const reply = handle(req);
    reuse.remember(req, reply, userFiles);
    replyFlushed(reply);
  });
} else {
  process.once('message', (req: TraceRequest) => {
    const reply = handle(req);
    process.send?.(reply, exitFlushed);
  });
}
