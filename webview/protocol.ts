// The one message protocol between the extension host and the timeline webview. Both sides
// import this file and nothing else from each other; it holds plain data types and constants.
//
// The webview sends requests; each request method is paired with the one response type the host
// answers it with (`IpcRequest<Params, Response>`), matched by request id. The host also sends
// notifications (new state, busy, error) that answer no request.

export const PROTOCOL_VERSION = 2;

export type PanelMode = 'infer' | 'train';
export type PanelDtype = 'fp32' | 'fp16' | 'bf16';
export type PanelOptimizer = 'adamw' | 'adam' | 'sgd' | 'sgd-momentum' | 'adam8bit' | 'none';
export type PanelPhase = 'forward' | 'backward' | 'optimizer';
export type ModelKindName = 'onnx' | 'typescript' | 'python';

/** Largest batch and sequence length the panel accepts (sizes stay exact integers in bytes). */
export const MAX_BATCH = 1 << 24;
export const MAX_SEQUENCE = 1 << 24;

/** The settings the panel's controls write: the `memlens.*` settings of the same names. */
export interface PanelSettings {
  mode: PanelMode;
  batch: number;
  seq: number;
  dtype: PanelDtype;
  optimizer: PanelOptimizer;
}

export type SettingField = keyof PanelSettings;

/** One control of the panel, described as the Settings UI describes the setting it writes. */
export interface SettingControl {
  field: SettingField;
  /** `memlens.sequenceLength`. */
  key: string;
  /** The title the Settings UI shows for the key: `Sequence Length`. */
  title: string;
  /** The setting's description, plain text. */
  description: string;
  input:
    | { kind: 'enum'; options: Array<{ value: string; description: string | null }> }
    | { kind: 'integer'; min: number; max: number };
  value: string | number;
  /** Why the control is not shown for this model (no sequence dim...), or null when it is. */
  hiddenBecause: string | null;
}

export interface SourceLink {
  /** Absolute path as the profile records it. */
  file: string;
  /** 1-based line. */
  line: number;
  /** What users see: `model.ts:12`. */
  label: string;
}

/** One drawn point of the live-bytes curve (after downsampling). */
export interface ChartPoint {
  /** Step index in execution order (the x axis). */
  index: number;
  liveBytes: number;
  /** Bytes per category, in the order of `PanelState.categories`. */
  stack: number[];
  phase: PanelPhase;
  op: string;
  node: string;
  source: SourceLink | null;
}

export interface PhaseSpan {
  phase: PanelPhase;
  /** First and last step index of the phase (inclusive). */
  start: number;
  end: number;
}

export interface PeakMark {
  index: number;
  bytes: number;
  bytesLabel: string;
  phase: PanelPhase;
  op: string;
  node: string;
  source: SourceLink | null;
}

export interface CurvePoint {
  index: number;
  bytes: number;
}

export interface MeasuredSeries {
  /** `cpu (ONNX Runtime arena)` and the like. */
  label: string;
  points: CurvePoint[];
  peakBytes: number;
  peakLabel: string;
}

/** The profile before a fix was applied, drawn beside the new one. */
export interface FixComparison {
  /** What was applied: `checkpoint the blocks`. */
  action: string;
  /** The line the fix changed, when known. */
  at: SourceLink | null;
  /** A step of the new timeline that runs the changed line (where the figure is drawn), or null. */
  atStep: number | null;
  beforePeakBytes: number;
  beforeLabel: string;
  afterLabel: string;
  /** Live bytes of the previous profile per step (downsampled like the new curve). */
  points: CurvePoint[];
  totalSteps: number;
}

/** A row of the "live at the peak" table: one source line (or module scope without a line). */
export interface LiveRow {
  source: SourceLink | null;
  /** `model.ts:12` or the module scope. */
  label: string;
  scope: string;
  peakBytes: number;
  peakLabel: string;
  /** Share of the peak, 0..1. */
  share: number;
  /** Largest op types of the line, `MatMul 1.2 GiB, Softmax 0.4 GiB`. */
  ops: string;
  repeats: number;
}

export interface SummaryItem {
  label: string;
  value: string;
}

/** A graph input or output: `input_ids`, `int64`, `[batch=1, sequence=128]`. */
export interface TensorRow {
  name: string;
  dtype: string;
  /** Each dim as shown: `768`, `batch=1`, `?`. */
  dims: string[] | null;
}

/** What the model file is: the ONNX summary's card. */
export interface ModelCardView {
  inputs: TensorRow[];
  outputs: TensorRow[];
  /** `ai.onnx 17, com.microsoft 1`. */
  opsets: string;
  producer: string;
  nodeCount: number;
  /** `5.2 MiB (5,452,123 bytes)`, or null when the graph was not read from a file. */
  fileSize: string | null;
}

/** The settings the shown profile was analysed with; null where the model has no such dim. */
export interface AnalysedSettings {
  mode: PanelMode;
  batch: number | null;
  seq: number | null;
  dtype: PanelDtype;
  optimizer: PanelOptimizer | null;
}

export interface PanelState {
  protocol: typeof PROTOCOL_VERSION;
  /** The model file (URI string) the panel shows; the serializer restores from it. */
  documentUri: string;
  /** Changes with every new profile (a budget change keeps it). */
  profileId: number;
  title: string;
  kind: ModelKindName;
  analysed: AnalysedSettings;
  controls: SettingControl[];
  /** Whether the measure button is offered (a run on ONNX Runtime). */
  canMeasure: boolean;
  categories: string[];
  /** Display names of the categories, same order. */
  categoryLabels: string[];
  points: ChartPoint[];
  /** Steps before downsampling. */
  totalSteps: number;
  phases: PhaseSpan[];
  peak: PeakMark;
  measured: MeasuredSeries | null;
  comparison: FixComparison | null;
  budgetBytes: number | null;
  budgetLabel: string | null;
  liveAtPeak: LiveRow[];
  summary: SummaryItem[];
  card: ModelCardView | null;
  warnings: string[];
}

/** A request method's parameters and the one response type the host answers it with. */
export interface IpcRequest<Params, Response> {
  params: Params;
  response: Response;
}

/** Every response says whether the host did it; a refusal carries one line saying why. */
export type Reply<T extends object = object> = ({ ok: true } & T) | { ok: false; reason: string };

export interface PanelRequests {
  /** Sent once the script runs; the host answers with the full state (null: none yet). */
  ready: IpcRequest<Record<string, never>, Reply<{ state: PanelState | null }>>;
  /** Opens a source line of the shown profile. */
  reveal: IpcRequest<{ source: { file: string; line: number } }, Reply>;
  /** Writes the settings and profiles the model again with them. */
  applySettings: IpcRequest<{ settings: PanelSettings }, Reply>;
  /** Runs the model on ONNX Runtime and joins the measurement. */
  measure: IpcRequest<Record<string, never>, Reply>;
  /** Stops drawing the profile from before the last fix. */
  hideComparison: IpcRequest<Record<string, never>, Reply>;
}

export type RequestMethod = keyof PanelRequests;
export type RequestParams<M extends RequestMethod> = PanelRequests[M]['params'];
export type ResponseOf<M extends RequestMethod> = PanelRequests[M]['response'];

export const REQUEST_METHODS: readonly RequestMethod[] = ['ready', 'reveal', 'applySettings', 'measure', 'hideComparison'];

/** Webview -> host. */
export type RequestMessage<M extends RequestMethod = RequestMethod> = M extends RequestMethod
  ? { kind: 'request'; id: number; method: M; params: RequestParams<M> }
  : never;

/** Host -> webview: the answer to the request with the same id. */
export type ResponseMessage<M extends RequestMethod = RequestMethod> = M extends RequestMethod
  ? { kind: 'response'; id: number; method: M; result: ResponseOf<M> }
  : never;

/** Host -> webview, unasked. */
export type NotificationMessage =
  | { kind: 'notification'; method: 'state'; state: PanelState | null }
  | { kind: 'notification'; method: 'busy'; label: string }
  | { kind: 'notification'; method: 'error'; message: string };

export type HostMessage = ResponseMessage | NotificationMessage;

/** What the webview keeps with setState (and the serializer gets back after a reload). */
export interface PersistedState {
  protocol: typeof PROTOCOL_VERSION;
  panel: PanelState | null;
}
