// The one message protocol between the extension host and the timeline webview. Both sides
// import this file and nothing else from each other; it holds plain data types only.

export const PROTOCOL_VERSION = 1;

export type PanelMode = 'infer' | 'train';
export type PanelDtype = 'fp32' | 'fp16' | 'bf16';
export type PanelPhase = 'forward' | 'backward' | 'optimizer';

/** The settings the panel's controls change; the host re-profiles with them. */
export interface PanelSettings {
  mode: PanelMode;
  batch: number;
  seq: number;
  dtype: PanelDtype;
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

export interface MeasuredSeries {
  /** `cpu (ONNX Runtime arena)` and the like. */
  label: string;
  points: Array<{ index: number; bytes: number }>;
  peakBytes: number;
  peakLabel: string;
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

export interface PanelState {
  protocol: typeof PROTOCOL_VERSION;
  /** The model file (URI string) the panel shows; the serializer restores from it. */
  documentUri: string;
  title: string;
  settings: PanelSettings;
  categories: string[];
  /** Display names of the categories, same order. */
  categoryLabels: string[];
  points: ChartPoint[];
  /** Steps before downsampling. */
  totalSteps: number;
  phases: PhaseSpan[];
  peak: PeakMark;
  measured: MeasuredSeries | null;
  budgetBytes: number | null;
  budgetLabel: string | null;
  liveAtPeak: LiveRow[];
  summary: SummaryItem[];
  warnings: string[];
}

/** Host -> webview. `replyTo` answers the request with that id. */
export type HostMessage =
  | { type: 'state'; state: PanelState | null; replyTo?: number }
  | { type: 'busy'; busy: boolean; label: string }
  | { type: 'error'; message: string; replyTo?: number }
  | { type: 'revealed'; replyTo: number; ok: boolean };

/** Webview -> host. Every message carries a request id the host may answer. */
export type WebviewMessage =
  /** Sent once the script runs; carries what the webview restored from getState. */
  | { type: 'ready'; requestId: number; restored: PanelState | null }
  | { type: 'reveal'; requestId: number; source: SourceLink }
  | { type: 'reprofile'; requestId: number; settings: PanelSettings };

/** What the webview keeps with setState (and the serializer gets back after a reload). */
export interface PersistedState {
  protocol: typeof PROTOCOL_VERSION;
  panel: PanelState | null;
}

export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as { type?: unknown; requestId?: unknown };
  if (typeof m.requestId !== 'number') return false;
  return m.type === 'ready' || m.type === 'reveal' || m.type === 'reprofile';
}
