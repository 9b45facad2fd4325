// Suggestions and plans in PyTorch source: the torch idiom for each suggestion kind, found on the
// lines it can apply to (the layer loop or block call, the attention's lines, the model's
// construction, forward, the loss call), and a whole plan applied rewrite after rewrite.
import * as path from 'node:path';
import type { SourceRef } from '../../extension/engine/profile';
import type { Plan, PlanStep } from '../../extension/engine/suggest/planner';
import type { SuggestionSpec } from '../../extension/engine/suggest/types';
import { spanEdit } from '../plain-edit';
import { sameFile } from '../same-file';
import type { PlanEdits, SourceRewriter } from '../source-rewrites';
import { PYTHON_REWRITES, checkpointLayers, type Rewrite, type RewriteKind } from './rewrites';
import { applyEdits } from './text-edits';

export interface PythonTarget {
  kind: RewriteKind;
  /** 1-based lines where the rewrite may apply (the rewrite itself decides). */
  lines: number[];
  /** The torch idiom, for the title. */
  action: string;
  /** Text the rewrite's edits must contain to be this suggestion (a block call wraps that block, not its caller). */
  expect?: string;
}

/** What placing a suggestion reads: its spec and the source lines of its nodes. */
export type Placeable = SuggestionSpec & { sources: readonly SourceRef[] };

const lastSegment = (scope: string) => scope.split('.').filter((s) => s !== '*' && !/^\d+$/.test(s)).pop() ?? '';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function linesMatching(text: string, re: RegExp): number[] {
  const out: number[] = [];
  text.split('\n').forEach((l, i) => {
    if (re.test(l)) out.push(i + 1);
  });
  return out;
}

/** The `for ... in self.<loop>` lines of a layer loop. */
const loopLines = (text: string, loop: string) =>
  linesMatching(text, new RegExp(`^\\s*for\\s+.+\\s+in\\s+(enumerate\\()?self\\.${escape(lastSegment(loop))}\\b`));

/** Where a suggestion has a PyTorch form in `text` (a .py file of the model), or null. */
export function pythonTarget(s: Placeable, text: string, file: string, modelFile: string): PythonTarget | null {
  switch (s.kind) {
    case 'checkpoint-block': {
      const child = s.detail.child;
      const lines = linesMatching(text, new RegExp(`\\bself\\.${escape(child)}\\s*\\(`));
      return { kind: 'checkpoint', lines, action: `Checkpoint self.${child}(…) with torch.utils.checkpoint`, expect: `checkpoint(self.${child},` };
    }
    case 'checkpoint-loop':
      return { kind: 'checkpoint', lines: loopLines(text, s.detail.loop), action: `Checkpoint the layer loop over self.${lastSegment(s.detail.loop)} (torch.utils.checkpoint)` };
    case 'offload-activations':
      return { kind: 'offload-activations', lines: loopLines(text, s.detail.loop), action: `Offload the saved activations of self.${lastSegment(s.detail.loop)} to CPU (save_on_cpu)` };
    case 'fused-attention':
      return { kind: 'sdpa', lines: s.sources.filter((r) => sameFile(r.file, file)).map((r) => r.line), action: 'Use F.scaled_dot_product_attention' };
    case 'quantize-weights':
      if (s.detail.format !== 'int8' || !s.detail.modules.includes('model')) return null;
      return { kind: 'quantize-dynamic', lines: linesMatching(text, /^\s*(\w+\s*=\s*|return\s+)[A-Z]\w*\(/), action: 'Quantize nn.Linear weights to int8 (quantize_dynamic)' };
    case 'mixed-precision': {
      // The whole model's forward: in the profiled file, the last forward (the outermost module).
      if (s.detail.dtype !== 'bf16' || !sameFile(file, modelFile)) return null;
      const forwards = linesMatching(text, /^\s*def\s+forward\s*\(/);
      return forwards.length ? { kind: 'autocast-bf16', lines: forwards.slice(-1), action: 'Run the model\'s forward in bf16 autocast' } : null;
    }
    case 'chunked-loss':
      return { kind: 'chunked-cross-entropy', lines: linesMatching(text, /\bcross_entropy\s*\(/), action: 'Chunk the cross-entropy over rows' };
    default:
      return null;
  }
}

/** Whether a rewrite found at a target line is the one the suggestion means. */
export function rewriteFits(target: PythonTarget, edits: readonly { newText: string }[]): boolean {
  const expect = target.expect;
  return edits.length > 0 && (expect === undefined || edits.some((e) => e.newText.includes(expect)));
}

async function firstLine(lines: number[], at: (line: number) => Promise<Rewrite | null>): Promise<{ line: number; rewrite: Rewrite } | null> {
  for (const line of lines) {
    const rewrite = await at(line);
    if (rewrite) return { line, rewrite };
  }
  return null;
}

/** The first of the target's lines where its rewrite applies as the suggestion means it: that line and the edits. */
export function firstPythonRewrite(target: PythonTarget, text: string): Promise<{ line: number; rewrite: Rewrite } | null> {
  return firstLine(target.lines, async (line) => {
    const rewrite = await PYTHON_REWRITES[target.kind](text, line);
    return rewrite && rewriteFits(target, rewrite.edits) ? rewrite : null;
  });
}

/** A plan step's rewrite in `text`: its suggestion's idiom, or the checkpointed layers of one loop. */
async function stepRewrite(step: PlanStep, text: string, file: string, modelFile: string): Promise<{ line: number; rewrite: Rewrite } | null> {
  if (step.kind === 'suggestion') {
    const target = pythonTarget({ ...step.spec, sources: [] }, text, file, modelFile);
    return target ? firstPythonRewrite(target, text) : null;
  }
  const loop: Placeable = { kind: 'checkpoint-loop', detail: { kind: 'checkpoint', loop: step.loop, child: null, layers: step.layers }, sources: [] };
  const target = pythonTarget(loop, text, file, modelFile);
  if (!target) return null;
  if (step.indices.length === step.layers) return firstPythonRewrite(target, text);
  return firstLine(target.lines, (line) => checkpointLayers(text, line, step.indices));
}

/** A plan on a Python file: each step through its torch idiom, each parsing the text the last one left. */
async function pythonPlanText(file: string, text: string, plan: Plan, modelFile: string): Promise<PlanEdits> {
  let now = text;
  const applied: string[] = [];
  const unmapped: string[] = [];
  for (const step of plan.chosen.steps) {
    const found = await stepRewrite(step, now, file, modelFile);
    if (!found) {
      unmapped.push(`${step.label}: no place for it found in ${path.basename(file)}`);
      continue;
    }
    now = applyEdits(now, found.rewrite.edits);
    applied.push(found.rewrite.description);
  }
  const one = spanEdit(text, now);
  return { text: now, edits: one ? [one] : [], applied, unmapped };
}

export const pythonRewriter: SourceRewriter = {
  async place(s, file, text, modelFile) {
    const target = pythonTarget(s, text, file, modelFile);
    const found = target ? await firstPythonRewrite(target, text) : null;
    if (!target || !found) return null;
    return { lines: [found.line], action: target.action, site: { language: 'python', rewrite: target.kind, line: found.line } };
  },
  async edits(_s, site, _file, text) {
    if (site.language !== 'python') return [];
    return (await PYTHON_REWRITES[site.rewrite](text, site.line))?.edits ?? [];
  },
  applyPlan: (plan, file, text, modelFile) => pythonPlanText(file, text, plan, modelFile),
};
