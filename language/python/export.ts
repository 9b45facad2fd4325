// PyTorch model file -> ONNX Model whose nodes carry source locations. Runs the user's Python
// (trusted workspaces only) in a child process with a time limit, through bridge/export_onnx.py.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Dim, Model } from '../../extension/engine/graph';
import { MemlensError } from '../../extension/engine/errors';
import { lastLine, oneLine } from '../../extension/process/ending';
import { runCheck } from '../../extension/process/check';
import { defaultMemoryLimit } from '../../extension/process/supervisor';
import { FROZEN_KEY, INPLACE_KEY, MEMLENS_FILE, MEMLENS_LINE, MEMLENS_SCOPE, PARAMETERS_KEY, SCRIPT_STEP_KEY, TORCH_VERSION_KEY } from '../../extension/engine/metadata-keys';
import { decodeModel } from '../../extension/engine/onnx/decode';
import type { AnalysisSettings } from '../../extension/engine/settings';
import type { InputSpec } from './directives';
import type { ForwardInfo, PythonDiscovery } from './discovery';
import { discoverPython } from './discovery';
import { chooseEntry } from './entry';
import type { EntryChoice } from './entry';
import { resolvePython } from './interpreter';
import { checkBridgeResult, checkProbe, type BridgeSuccess, type Exporter } from './bridge-result';
import { bridgeScript } from './bridge-path';
import { runPython, runPythonJson } from './run-python';
import { perWorker } from './python-worker';
import { callIndices, writeRegions } from './regions';
import { locateNodes } from './source-map';
import type { ModuleRecord, NodeLocation } from './source-map';
import type { CapturedCall, ScriptStep } from './script-step';
import { locationFromTorchMetadata } from './torch-stack-trace';
import { makeRunDir, removeRunDir } from '../../extension/process/run-dir';

export interface ExportOptions {
  /** Class or function that builds the model; default from `# memlens: entry`, `__main__`, or discovery. */
  entry?: string;
  settings: AnalysisSettings;
  /** Whether the workspace is trusted; exporting runs the user's code, so it is refused otherwise. */
  trusted: boolean;
  /** `memlens.pythonPath`, else the Python extension's interpreter; default /usr/bin/python3, then python3. */
  pythonPath?: string;
  timeoutMs: number;
  /** Resident bytes of the export (Python and what it starts); default three quarters of the machine's memory. */
  memoryLimitBytes?: number;
  /** Default: os.tmpdir()/memlens-export-cache. */
  cacheDir?: string;
  signal?: AbortSignal;
  /** Which of the batch size and sequence length the user set. The others come from the call
   * the script makes, when the model is found by running it. Default: both set. */
  given?: { batch: boolean; seq: boolean };
  /** Run Python in the interpreter's kept worker (torch imported once); the editor sets it. */
  keepWorker?: boolean;
}

export interface ExportResult {
  onnxPath: string;
  model: Model;
  entry: string;
  torchVersion: string;
  exporter: Exporter;
  /** The graph's inputs as exported (the captured call's shapes, with a set batch applied). */
  inputs: ResolvedInput[];
  /** What the script does in its first step, when the model was found by running it. */
  step: ScriptStep | null;
  /** One line each: what the front end did that the user should know (shown as warnings). */
  notes: string[];
  /** The model as analysed, by content: the exporter's bytes and MemLens's annotations. Equal
   * hashes, equal models (a moved source line changes the annotations, so the hash too). */
  graphHash: string;
}

/** ONNX opset of TorchScript exports (LayerNormalization is a single op from 17). */
const TORCHSCRIPT_OPSET = 17;
/** Bumped when the cached files' meaning changes. */
const CACHE_FORMAT = 5;

export interface ResolvedInput {
  name: string;
  shape: number[];
  dtype: InputSpec['dtype'];
}

interface CacheMeta {
  entry: string;
  torchVersion: string;
  exporter: Exporter;
  inputs: ResolvedInput[];
  step: ScriptStep | null;
  notes: string[];
  /** Local source files the model's classes came from besides the exported file, with content hashes. */
  dependencies: Array<{ file: string; sha256: string }>;
  annotations: Annotations;
}

/**
 * What `annotate` wrote into the exporter's model: node metadata by node index (decoding the same
 * bytes gives the same node order) and model metadata. The cache keeps the exporter's own bytes
 * with these beside them, so a fresh export is decoded once and never encoded again.
 */
interface Annotations {
  nodes: Array<[number, Record<string, string>]>;
  model: Record<string, string>;
}

/** What both bridges (export, measured run) need before they run: the file read and discovered,
 * the interpreter checked, the entry chosen. */
export interface PreparedRun {
  absolute: string;
  label: string;
  text: string;
  discovery: PythonDiscovery;
  cwd: string;
  python: string;
  torchVersion: string;
  choice: EntryChoice;
  inputs: ResolvedInput[] | null;
  given: { batch: boolean; seq: boolean };
}

export async function prepareRun(file: string, options: Omit<ExportOptions, 'cacheDir'>, what: string): Promise<PreparedRun> {
  const label = path.basename(file);
  if (!options.trusted) {
    throw new MemlensError(`${label}: ${what} a Python model runs its code; trust this workspace first (or open an exported .onnx file)`);
  }
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch {
    throw new MemlensError(`${label}: cannot read ${absolute}`);
  }
  const discovery = await discoverPython(text);
  const python = resolvePython(options.pythonPath);
  const cwd = path.dirname(absolute);
  const torchVersion = await probeTorch(python, cwd, options);
  if (discovery.syntaxErrors.length) await checkSyntax(python, absolute, label, discovery, options);
  const choice = chooseEntry(discovery, label, options.entry);
  const inputs = choice.inputs ? declaredInputs(choice, options.settings, label) : null;
  return { absolute, label, text, discovery, cwd, python, torchVersion, choice, inputs, given: options.given ?? { batch: true, seq: true } };
}

/** The request fields both bridges read: how to find the model, its inputs and sizes. */
export function modelRequest(run: PreparedRun, settings: AnalysisSettings): Record<string, unknown> {
  return {
    file: run.absolute,
    ...bridgeEntry(run.choice),
    inputs: run.inputs,
    batch: settings.batch,
    seq: settings.seq,
    batchGiven: run.given.batch,
    seqGiven: run.given.seq,
    mode: settings.mode,
  };
}

export async function exportPythonModel(file: string, options: ExportOptions): Promise<ExportResult> {
  const prepared = await prepareRun(file, options, 'exporting');
  const { absolute, label, text, cwd, python, torchVersion, choice, inputs, given, discovery } = prepared;
  const bridge = bridgeScript('export_onnx.py');
  const key = sha256(JSON.stringify({
    format: CACHE_FORMAT,
    // The path too: the same text elsewhere imports other local modules (the dependency check
    // only covers the files recorded for the cached export).
    file: absolute,
    text,
    bridge: [bridge, bridgeScript('memlens_user_code.py')].map((f) => fs.readFileSync(f, 'utf8')),
    entry: bridgeEntry(choice),
    inputs,
    given,
    mode: options.settings.mode,
    batch: options.settings.batch,
    seq: options.settings.seq,
    dims: options.settings.dims,
    torchVersion,
    python,
  }));
  const cacheDir = options.cacheDir ?? path.join(os.tmpdir(), 'memlens-export-cache');
  const onnxPath = path.join(cacheDir, `${key}.onnx`);
  const cached = readCache(onnxPath, label);
  if (cached) return cached;

  fs.mkdirSync(cacheDir, { recursive: true });
  const work = makeRunDir('run-', cacheDir);
  try {
    const rawOnnx = path.join(work, 'model.onnx');
    const resultPath = path.join(work, 'result.json');
    // The bridge caps its own address space at the same limit the supervisor holds the tree to, so
    // a model too large for it is refused at its first tensor that does not fit (one line, at once).
    const memoryLimitBytes = options.memoryLimitBytes ?? defaultMemoryLimit();
    const request = { ...modelRequest(prepared, options.settings), onnx: rawOnnx, result: resultPath, opset: TORCHSCRIPT_OPSET, memoryLimitBytes };
    const requestPath = path.join(work, 'request.json');
    fs.writeFileSync(requestPath, JSON.stringify(request));
    const { result } = await runPythonJson(python, bridge, [requestPath], {
      what: `${label}: export`, cwd, timeoutMs: options.timeoutMs, memoryLimitBytes: options.memoryLimitBytes, signal: options.signal,
      tempDir: work, resultFile: resultPath, check: checkBridgeResult, warm: options.keepWorker,
    });
    if (!result.ok) throw new MemlensError(oneLine(`${label}: ${result.error}`), 2, result.at ?? null);

    const bytes = fs.readFileSync(rawOnnx);
    const model = decodeModel(bytes, `${label} (exported ONNX)`);
    const before = metadataOf(model);
    const step = await annotate(model, result, absolute, discovery);
    const meta: CacheMeta = {
      entry: result.label,
      torchVersion: result.torchVersion,
      exporter: result.exporter,
      inputs: result.inputs,
      step,
      notes: result.notes,
      dependencies: localDependencies(result.modules, absolute),
      annotations: annotationsSince(before, model),
    };
    // The ONNX file first: a cache entry is read through its meta file, written last.
    fs.renameSync(rawOnnx, onnxPath);
    writeAtomically(metaPath(onnxPath), JSON.stringify(meta));
    return resultOf(onnxPath, model, meta, bytes);
  } finally {
    removeRunDir(work);
  }
}

/** Source lines, regions and provenance of the exported model, as node and model metadata. */
/** Source lines, regions, tensor kinds and provenance written into the exported model; the script's step, when it ran. */
async function annotate(model: Model, result: BridgeSuccess, file: string, discovery: PythonDiscovery): Promise<ScriptStep | null> {
  const located = result.exporter === 'dynamo'
    ? locateFromTorchMetadata(model)
    : locateNodes(model.graph, result.modules, await forwardLookup(result.modules, file, discovery));
  writeLocations(model, located);
  markInplace(model, located, result.modules);
  const calls = result.exporter === 'torchscript' ? callIndices(model.graph, result.modules) : new Map<string, number>();
  writeRegions(model.graph, located, result.regions, calls);
  const step = scriptStep(result);
  if (step) locateAtCall(model, step.call);
  writeTensorKinds(model, result);
  model.metadata['memlens.entry'] = result.label;
  model.metadata[TORCH_VERSION_KEY] = result.torchVersion;
  model.metadata['memlens.exporter'] = result.exporter;
  if (step) model.metadata[SCRIPT_STEP_KEY] = JSON.stringify(step);
  return step;
}

/** Symbolic dims from directives and examples take their values from the settings. */
export function resolveInputs(specs: InputSpec[], settings: AnalysisSettings, label: string): ResolvedInput[] {
  const value = (d: Dim, spec: InputSpec): number => {
    if (typeof d === 'number') return d;
    if (d !== null && settings.dims[d] !== undefined) return settings.dims[d];
    if (d === 'batch') return settings.batch;
    if (d === 'seq') return settings.seq;
    throw new MemlensError(`${label}:${spec.line}: input ${spec.name} has a dimension "${d ?? '?'}" with no value; give it with --dim ${d ?? 'NAME'}=N`);
  };
  return specs.map((s) => ({ name: s.name, shape: s.shape.map((d) => value(d, s)), dtype: s.dtype }));
}

/** A script's fallback inputs are used only if the script calls no model: unresolvable ones are
 * left to the bridge's inference rather than failing a run that may not need them. */
function declaredInputs(choice: EntryChoice, settings: AnalysisSettings, label: string): ResolvedInput[] | null {
  if (!choice.inputs) return null;
  if (choice.source !== 'script') return resolveInputs(choice.inputs, settings, label);
  try {
    return resolveInputs(choice.inputs, settings, label);
  } catch {
    return null;
  }
}

/** The request's entry fields: what to run, the label to keep, and the fallback for scripts. */
function bridgeEntry(choice: EntryChoice): { entry: EntryChoice['request']; label: string | null; fallback: EntryChoice['request'] | null } {
  return { entry: choice.request, label: choice.label, fallback: choice.source === 'script' ? choice.fallback?.request ?? null : null };
}

function scriptStep(result: BridgeSuccess): ScriptStep | null {
  return result.captured ? { call: result.captured, optimizer: result.optimizer, loss: result.loss } : null;
}

/** Nodes no forward of model code owns (a torch.nn container called at the top, such as an
 * nn.Sequential built in the script) belong to the line where the script called the model. */
function locateAtCall(model: Model, call: CapturedCall): void {
  if (call.file === null || call.line === null) return;
  for (const node of model.graph.nodes) {
    if (node.metadata[MEMLENS_LINE] !== undefined) continue;
    node.metadata[MEMLENS_FILE] = call.file;
    node.metadata[MEMLENS_LINE] = String(call.line);
  }
}

/** Which initializers are parameters (any of a tied tensor's names) and which of those are
 * frozen (requires_grad False); buffers and constants are neither. */
function writeTensorKinds(model: Model, result: BridgeSuccess): void {
  const initializers = model.graph.initializers;
  const parameters: string[] = [];
  const frozen: string[] = [];
  for (const p of result.parameters) {
    for (const name of [p.name, ...p.aliases]) {
      if (!initializers.has(name)) continue;
      parameters.push(name);
      if (!p.requiresGrad) frozen.push(name);
    }
  }
  model.metadata[PARAMETERS_KEY] = JSON.stringify(parameters.sort());
  model.metadata[FROZEN_KEY] = JSON.stringify(frozen.sort());
}

const PROBE = String.raw`
import importlib.metadata as m, importlib.util as u, json, os, sys
v = None
try:
    v = m.version("torch")
except Exception:
    s = u.find_spec("torch")
    if s is not None:
        v = "unknown"
        p = os.path.join(os.path.dirname(s.origin or ""), "version.py")
        if os.path.exists(p):
            for line in open(p):
                if line.startswith("__version__"):
                    v = line.split("=", 1)[1].strip().strip("'\"")
print(json.dumps({"torch": v, "python": sys.executable}))
`;

/** The torch version without importing torch (fast); a clear error when Python or torch is missing.
 * A kept worker answers once: every run it serves is a fork with the torch it imported. */
async function probeTorch(python: string, cwd: string, options: Pick<ExportOptions, 'timeoutMs' | 'signal' | 'keepWorker'>): Promise<string> {
  if (!options.keepWorker) return probeTorchOnce(python, cwd, options);
  // Per directory, as the probe runs there: a `torch` folder in it would shadow the installed one.
  return perWorker(python, `torch-probe:${cwd}`, () => probeTorchOnce(python, cwd, options));
}

async function probeTorchOnce(python: string, cwd: string, options: Pick<ExportOptions, 'timeoutMs' | 'signal' | 'keepWorker'>): Promise<string> {
  const run = await runPython(python, ['-c', PROBE], { timeoutMs: Math.min(options.timeoutMs, 30_000), cwd, signal: options.signal, what: 'checking for PyTorch', warm: options.keepWorker });
  const parsed = readProbe(run.stdout);
  if (!parsed) throw new MemlensError(`${python} is not a working Python 3: ${lastLine(run.stderrTail) || `exit code ${run.code}`}`);
  if (!parsed.torch) {
    throw new MemlensError(`PyTorch is not installed for ${parsed.python}; install torch there or set memlens.pythonPath to a Python that has it`);
  }
  return parsed.torch;
}

function readProbe(stdout: string): { torch: string | null; python: string } | null {
  const lines = stdout.trim().split('\n');
  try {
    const checked = runCheck(checkProbe, JSON.parse(lines[lines.length - 1]));
    return checked.ok ? checked.value : null;
  } catch {
    return null; // not JSON: not the probe speaking
  }
}

const COMPILE = 'import sys\nsrc = open(sys.argv[1], encoding="utf-8").read()\ntry:\n    compile(src, sys.argv[1], "exec")\nexcept SyntaxError as e:\n    print("%s: %s" % (e.lineno, e.msg))\n';

/** Python's own message for a syntax error tree-sitter found; tree-sitter alone may lag new syntax. */
async function checkSyntax(python: string, file: string, label: string, discovery: PythonDiscovery, options: Pick<ExportOptions, 'timeoutMs' | 'signal' | 'keepWorker'>): Promise<void> {
  const run = await runPython(python, ['-c', COMPILE, file], { timeoutMs: Math.min(options.timeoutMs, 30_000), cwd: path.dirname(file), signal: options.signal, what: `${label}: syntax check`, warm: options.keepWorker });
  const message = lastLine(run.stdout);
  if (message) throw new MemlensError(`${label}:${message.replace(/^(\d+): /, '$1: syntax error: ')}`);
  if (run.code !== 0) {
    const first = discovery.syntaxErrors[0];
    throw new MemlensError(`${label}:${first.line}:${first.column}: syntax error`);
  }
}

async function forwardLookup(records: ModuleRecord[], mainFile: string, mainDiscovery: PythonDiscovery): Promise<(r: ModuleRecord) => ForwardInfo | null> {
  const byFile = new Map<string, PythonDiscovery | null>([[mainFile, mainDiscovery]]);
  for (const r of records) {
    if (r.builtin || !r.forwardFile || byFile.has(r.forwardFile)) continue;
    let text: string | null = null;
    try {
      text = fs.readFileSync(r.forwardFile, 'utf8');
    } catch {
      text = null; // compiled or generated modules have no readable source: scope only
    }
    byFile.set(r.forwardFile, text === null ? null : await discoverPython(text));
  }
  return (r) => {
    if (!r.forwardFile || !r.forwardQualname) return null;
    const parts = r.forwardQualname.split('.');
    if (parts.includes('<locals>') || parts.length < 2) return null;
    const className = parts[parts.length - 2];
    return byFile.get(r.forwardFile)?.classes.find((c) => c.name === className)?.forward ?? null;
  };
}

function locateFromTorchMetadata(model: Model): Map<string, NodeLocation> {
  const out = new Map<string, NodeLocation>();
  for (const n of model.graph.nodes) {
    const loc = locationFromTorchMetadata(n.metadata);
    if (loc) out.set(n.name, loc);
  }
  return out;
}

function writeLocations(model: Model, located: Map<string, NodeLocation>): void {
  for (const node of model.graph.nodes) {
    const loc = located.get(node.name);
    if (!loc) continue;
    if (loc.file !== null && loc.line !== null) {
      node.metadata[MEMLENS_FILE] = loc.file;
      node.metadata[MEMLENS_LINE] = String(loc.line);
    }
    node.metadata[MEMLENS_SCOPE] = loc.scope;
  }
}

/** Nodes of a module built with `inplace=True`: PyTorch overwrites the input there (memory/activations.ts). */
function markInplace(model: Model, located: Map<string, NodeLocation>, records: ModuleRecord[]): void {
  const inplace = new Set(records.filter((r) => r.inplace === true).map((r) => r.path));
  if (inplace.size === 0) return;
  for (const node of model.graph.nodes) {
    const scope = located.get(node.name)?.scope;
    if (scope !== undefined && inplace.has(scope)) node.metadata[INPLACE_KEY] = 'true';
  }
}

/** Source files next to the user's code (not installed packages) whose edits change the model. */
function localDependencies(records: ModuleRecord[], mainFile: string): CacheMeta['dependencies'] {
  const files = new Set<string>();
  for (const r of records) {
    for (const f of [r.classFile, r.forwardFile]) {
      if (f && f !== mainFile && !/[\\/](site-packages|dist-packages)[\\/]/.test(f) && !r.builtin) files.add(f);
    }
  }
  return [...files].sort().map((file) => ({ file, sha256: fileHash(file) }));
}

function fileHash(file: string): string {
  try {
    return sha256(fs.readFileSync(file));
  } catch {
    return 'missing';
  }
}

function readCache(onnxPath: string, label: string): ExportResult | null {
  let meta: CacheMeta;
  let bytes: Buffer;
  try {
    meta = JSON.parse(fs.readFileSync(metaPath(onnxPath), 'utf8')) as CacheMeta;
    bytes = fs.readFileSync(onnxPath);
  } catch {
    return null;
  }
  if (meta.dependencies.some((d) => fileHash(d.file) !== d.sha256)) return null;
  const model = decodeModel(bytes, `${label} (cached ONNX export)`);
  // An entry that does not fit its model is not used (it is written again by a fresh export).
  if (!meta.annotations || meta.annotations.nodes.some(([i]) => !(i >= 0 && i < model.graph.nodes.length))) return null;
  applyAnnotations(model, meta.annotations);
  return resultOf(onnxPath, model, meta, bytes);
}

function metadataOf(model: Model): { nodes: Record<string, string>[]; model: Record<string, string> } {
  return { nodes: model.graph.nodes.map((n) => ({ ...n.metadata })), model: { ...model.metadata } };
}

/** The entries that are new or changed since `before` (annotate only adds and overwrites). */
function annotationsSince(before: ReturnType<typeof metadataOf>, model: Model): Annotations {
  const changed = (was: Record<string, string>, now: Record<string, string>) => Object.fromEntries(Object.entries(now).filter(([k, v]) => was[k] !== v));
  const nodes: Annotations['nodes'] = [];
  model.graph.nodes.forEach((n, i) => {
    const c = changed(before.nodes[i] ?? {}, n.metadata);
    if (Object.keys(c).length > 0) nodes.push([i, c]);
  });
  return { nodes, model: changed(before.model, model.metadata) };
}

function applyAnnotations(model: Model, a: Annotations): void {
  for (const [i, entries] of a.nodes) Object.assign(model.graph.nodes[i].metadata, entries);
  Object.assign(model.metadata, a.model);
}

function resultOf(onnxPath: string, model: Model, meta: CacheMeta, bytes: Uint8Array): ExportResult {
  const graphHash = createHash('sha256').update(bytes).update(JSON.stringify(meta.annotations)).digest('hex');
  return { onnxPath, model, entry: meta.entry, torchVersion: meta.torchVersion, exporter: meta.exporter, inputs: meta.inputs, step: meta.step, notes: meta.notes, graphHash };
}

const metaPath = (onnxPath: string) => onnxPath.replace(/\.onnx$/, '.json');

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function writeAtomically(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}
