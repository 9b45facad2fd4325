// Python suggestions and plans as text edits: the torch idiom for each suggestion, found on the
// lines pythonTarget names, and a whole plan applied rewrite after rewrite. Shared by the editor
// (code actions, Fit to Budget) and the CLI (`memlens fit model.py --out`).
import * as path from 'node:path';
import type { Plan } from '../engine/suggest/planner';
import type { Suggestion } from '../engine/suggest/types';
import { PYTHON_REWRITES, checkpointLayers, type Rewrite } from '../../language/python/rewrites';
import { applyEdits as applyPythonEdits } from '../../language/python/text-edits';
import { pythonTarget, rewriteFits, type PythonRewriteKind, type PythonTarget } from './suggestion-actions';

/** A Python rewrite at a 1-based line, or null where it does not apply. */
export function pythonRewriteAt(kind: PythonRewriteKind, text: string, line: number): Promise<Rewrite | null> {
  return PYTHON_REWRITES[kind](text, line);
}

/** The first of the target's lines where its rewrite applies as the suggestion means it: that line and the edits. */
export async function firstPythonRewrite(target: PythonTarget, text: string): Promise<{ line: number; rewrite: Rewrite } | null> {
  for (const line of target.lines) {
    const rewrite = await pythonRewriteAt(target.kind, text, line);
    if (rewrite && rewriteFits(target, rewrite.edits)) return { line, rewrite };
  }
  return null;
}

export interface PythonPlanText {
  text: string;
  applied: string[];
  unmapped: string[];
}

/**
 * A plan on a Python file: each global choice and each checkpointed layer loop (all of its layers,
 * or the chosen ones by index) through its torch idiom, applied one after another (each rewrite
 * parses the text the last one left).
 */
export async function pythonPlanText(file: string, text: string, plan: Plan, modelFile: string): Promise<PythonPlanText> {
  let now = text;
  const applied: string[] = [];
  const unmapped: string[] = [];
  const steps: { suggestion: Suggestion; label: string; layers?: number[] }[] = plan.chosen.globalChoices.map((g) => ({ suggestion: asSuggestion(g.action, g.id, g.detail), label: g.action }));
  const byLoop = new Map<string, string[]>();
  for (const scope of plan.chosen.checkpointed) {
    const loop = scope.replace(/\.\d+$/, '');
    byLoop.set(loop, [...(byLoop.get(loop) ?? []), scope]);
  }
  for (const [loop, layers] of byLoop) {
    const total = plan.layerScopes.filter((s) => s.replace(/\.\d+$/, '') === loop).length;
    const label = `checkpoint ${layers.length} of ${total} layers of ${loop}`;
    const suggestion = asSuggestion(label, `checkpoint-loop:${loop}`, { kind: 'checkpoint', loop, child: null, layers: total });
    steps.push({ suggestion, label, layers: layers.length === total ? undefined : layers.map((l) => Number(l.slice(l.lastIndexOf('.') + 1))) });
  }
  for (const step of steps) {
    const target = pythonTarget(step.suggestion, now, file, modelFile);
    const found = !target ? null : step.layers ? await firstLine(target.lines, (line) => checkpointLayers(now, line, step.layers!)) : await firstPythonRewrite(target, now);
    if (!found) {
      unmapped.push(`${step.label}: no place for it found in ${path.basename(file)}`);
      continue;
    }
    now = applyPythonEdits(now, found.rewrite.edits);
    applied.push(found.rewrite.description);
  }
  return { text: now, applied, unmapped };
}

async function firstLine(lines: number[], at: (line: number) => Promise<Rewrite | null>): Promise<{ line: number; rewrite: Rewrite } | null> {
  for (const line of lines) {
    const rewrite = await at(line);
    if (rewrite) return { line, rewrite };
  }
  return null;
}

/** The parts of a Suggestion that pythonTarget reads, for a plan's choices. */
function asSuggestion(action: string, id: string, detail: Suggestion['detail']): Suggestion {
  const kind: Suggestion['kind'] = id.startsWith('checkpoint-loop') ? 'checkpoint-loop'
    : detail.kind === 'quantize' ? 'quantize-weights'
      : detail.kind === 'kv' ? 'quantize-kv'
        : detail.kind === 'attention' ? 'fused-attention'
          : detail.kind === 'loss' ? 'chunked-loss'
            : detail.kind === 'precision' ? 'mixed-precision'
              : detail.kind === 'lora' ? 'lora'
                : detail.kind === 'offload' ? 'offload-activations' : 'checkpoint-block';
  return {
    id, kind, scope: 'model', action, title: action, description: action,
    predicted: { peakBytes: 0, savingBytes: 0, formula: '' }, reanalysed: null,
    cost: { recomputeFlops: 0, recomputeShare: 0, transferBytes: 0, transferSeconds: 0, link: null, accuracy: 'unchanged', accuracyNote: '' },
    warnings: [], rewrites: [], settings: null, sources: [], nodes: [], detail,
  };
}
