// `memlens suggest` (ranked memory-saving rewrites) and `memlens fit` (the cheapest plan under a
// budget, its frontier, and with --out/--write the rewritten model file).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { loadModel } from '../analysis/load-model';
import { checkNewFile, decodeSource, encodeSource, matchLineEndings, writeInPlace, writeNewFile } from '../analysis/write-file';
import { analyzeModel } from '../engine/analyze';
import { MemlensError } from '../engine/errors';
import { applyRewrites } from '../engine/onnx-rewrite/apply';
import { encodeModel } from '../engine/onnx/encode';
import { fitBudget, type Plan, type PlanTarget } from '../engine/suggest/planner';
import { suggestRewrites } from '../engine/suggest/suggest';
import { caveatShort, LABELS } from '../engine/suggest/labels';
import type { Suggestion } from '../engine/suggest/types';
import type { Profile } from '../engine/profile';
import { formatBytes } from '../engine/units';
import { sourceRewriter } from '../../language/source-rewrites';
import { relocateImports } from '../../language/typescript/rewrites/relocate-imports';
import { relocatePythonImports } from '../../language/python/relocate-imports';
import type { CliRequest } from './args';
import { clearProgress } from './progress';
import type { Out } from './main';

export async function suggestCommand(req: CliRequest, out: Out): Promise<number> {
  // Before any work: --out never names the input, nor an existing file without --force.
  if (req.command === 'fit' && req.out !== undefined) await checkNewFile(req.out, { inputs: [req.file], replace: req.force });
  // The text as read before analysis: --write refuses when the file changes after this.
  const original = await fs.readFile(req.file).catch(() => null);
  const loaded = await loadModel(req.file, {
    entry: req.entry, settings: req.settings, given: req.given, trusted: true, timeoutMs: req.timeoutMs, pythonPath: req.python,
  });
  // A script's own batch and optimizer where no flag set them, as `profile` does.
  req = { ...req, settings: { ...req.settings, ...loaded.settings } };
  const profile = analyzeModel(loaded.model, req.settings, { source: req.file, entry: loaded.entry });
  if (req.command === 'suggest') {
    const list = suggestRewrites(loaded.model, req.settings, { source: req.file, profile });
    clearProgress();
    out(req.json ? JSON.stringify({ schema: 'memlens.suggestions/1', peakBytes: profile.peak.bytes, suggestions: list }, null, 1) + '\n' : formatSuggestions(list, profile.peak.bytes) + '\n');
    return 0;
  }
  if (req.budget === undefined) throw new MemlensError('fit: --budget is required (e.g. --budget 8GiB)');
  const writing = req.write || req.out !== undefined;
  const kind = loaded.kind;
  if (req.write && kind === 'onnx') throw new MemlensError('fit: .onnx models are never overwritten; use --out PATH');
  const target: PlanTarget = !writing || kind === 'python' ? 'any' : kind === 'onnx' ? 'onnx' : 'typescript';
  const plan = fitBudget(loaded.model, req.settings, req.budget, { source: req.file, target });
  let written: Written | null = null;
  if (writing) {
    const dest = req.out ?? req.file;
    if (kind === 'onnx') {
      const rewritten = applyRewrites(loaded.model, plan.chosen.rewrites, { checkOpset: true });
      await writeNewFile(dest, encodeModel(rewritten), { inputs: [req.file], replace: req.force });
      written = { path: dest, unmapped: [] };
    } else {
      if (!original) throw new MemlensError(`${req.file}: cannot read`);
      // Decoded so that it encodes back to the same bytes (latin-1 when not UTF-8), CRLF kept.
      const source = decodeSource(original);
      const r = await (await sourceRewriter(kind)).applyPlan(plan, req.file, source.text, req.file);
      refuseIncompleteWrite(req.file, plan, r, profile);
      const moved = relocated(kind, r.text, req.file, req.write ? req.file : dest);
      const text = matchLineEndings(source.text, moved.text);
      const next = encodeSource({ text, encoding: source.encoding }, req.file);
      if (req.write) await writeInPlace(req.file, original, next);
      else await writeNewFile(dest, next, { inputs: [req.file], replace: req.force });
      written = { path: dest, unmapped: r.unmapped, ...(moved.note ? { note: moved.note } : {}) };
    }
  }
  clearProgress();
  if (req.json) out(JSON.stringify({ schema: 'memlens.plan/1', ...plan, written }, null, 1) + '\n');
  else out(formatPlan(plan, written) + '\n');
  return plan.fits ? 0 : 3;
}

interface Written { path: string; unmapped: string[]; note?: string }

/** A copy in another folder keeps its imports of the files next to the original (TypeScript: re-pointed specifiers; Python: a sys.path line). */
function relocated(kind: 'typescript' | 'python', text: string, from: string, to: string): { text: string; note?: string } {
  if (kind === 'typescript') return { text: relocateImports(text, from, to) };
  const r = relocatePythonImports(text, from, to);
  if (r.siblings.length === 0) return { text: r.text };
  return { text: r.text, note: `added a sys.path line so that ${r.siblings.join(', ')} still import${r.siblings.length === 1 ? 's' : ''} from ${path.dirname(path.resolve(from))}` };
}

/**
 * A plan that changes something but whose edits do not all land in the profiled file (the model is
 * defined in an imported file, or a rewrite has no place in this one) is refused with exit 3, naming
 * the files that define the model: writing the file anyway would report a fix that does nothing.
 */
function refuseIncompleteWrite(file: string, plan: Plan, r: { edits: unknown[]; unmapped: string[] }, profile: Profile): void {
  const c = plan.chosen;
  if (c.globals.length === 0 && c.checkpointed.length === 0) return;
  if (r.edits.length > 0 && r.unmapped.length === 0) return;
  const here = path.resolve(file);
  const others = [...new Set(profile.lines.map((l) => l.file).filter((f): f is string => f !== null && path.resolve(f) !== here))];
  const what = [...c.globals, ...(c.checkpointed.length ? [`checkpoint ${c.checkpointed.join(', ')}`] : [])].join('; ');
  const where = others.length ? `the model is defined in ${others.map((f) => path.relative(process.cwd(), f) || f).join(', ')}: change it there` : `apply by hand: ${r.unmapped.join('; ')}`;
  throw new MemlensError(`fit: nothing written: ${r.edits.length === 0 ? 'no part' : 'only part'} of the plan (${what}) has a place in ${file}; ${where}`.slice(0, 300), 3);
}

const pct = (x: number) => `${Math.round(100 * x)}%`;

export function formatSuggestions(list: Suggestion[], peak: number): string {
  if (list.length === 0) return `peak ${formatBytes(peak)}: no memory-saving rewrite applies to this model under these settings`;
  const out = [`peak ${formatBytes(peak)} · ${list.length} suggestions, best first`, ''];
  list.forEach((s, i) => {
    out.push(`${i + 1}. ${s.title}`);
    const re = s.reanalysed ? `re-analysed ${formatBytes(s.reanalysed.peakBytes)} (saves ${formatBytes(s.reanalysed.savingBytes)})` : 're-analysis: n/a';
    out.push(`   predicted ${formatBytes(s.predicted.peakBytes)} (saves ${formatBytes(s.predicted.savingBytes)}) · ${re}`);
    if (s.cost.recomputeFlops > 0) out.push(`   recompute ${(s.cost.recomputeFlops / 1e9).toFixed(2)} GFLOP = ${pct(s.cost.recomputeShare)} of forward FLOPs`);
    if (s.cost.accuracy !== 'unchanged') out.push(`   accuracy: ${s.cost.accuracyNote}`);
    for (const w of s.warnings) out.push(`   warning: ${w}`);
  });
  return out.join('\n');
}

export function formatPlan(plan: Plan, written: Written | null): string {
  const c = plan.chosen;
  const out = [plan.message, `budget ${formatBytes(plan.budgetBytes)} · current peak ${formatBytes(plan.baselinePeakBytes)} · search ${plan.method}${plan.lowerBound !== null ? ` (cost lower bound ${pct(plan.lowerBound)} recompute)` : ''}, ${plan.searchNodes} nodes`, '', plan.fits ? 'plan' : 'lowest-peak plan'];
  for (const g of c.globals) out.push(`  - ${g}`);
  if (c.checkpointed.length) out.push(`  - checkpoint ${c.checkpointed.length} layer${c.checkpointed.length > 1 ? 's' : ''}: ${c.checkpointed.join(', ')}`);
  if (!c.globals.length && !c.checkpointed.length) out.push('  - nothing to change');
  out.push(`  peak ${formatBytes(c.verifiedPeakBytes)} (re-analysed; predicted ${formatBytes(c.predictedPeakBytes)}) · +${pct(c.recomputeShare)} forward compute · ${c.accuracyTier > 0 ? 'approximate results' : c.caveats.length ? c.caveats.map(caveatShort).join(', ') : 'results unchanged'}`);
  for (const caveat of c.caveats) out.push(`  warning: ${LABELS.caveat(caveat)}`);
  out.push('', 'frontier (peak · recompute · accuracy)');
  for (const p of plan.frontier) {
    const what = [...p.globals, ...(p.checkpointed.length ? [`checkpoint ${p.checkpointed.length} layers`] : [])].join(' + ') || 'as is';
    out.push(`  ${formatBytes(p.peakBytes).padStart(10)}  +${pct(p.recomputeShare).padEnd(5)} ${p.accuracyTier > 0 ? 'approx' : p.caveats.length ? 'random' : 'exact '}  ${what}`);
  }
  if (written) {
    out.push('', `wrote ${written.path}`);
    if (written.note) out.push(`  ${written.note}`);
    for (const u of written.unmapped) out.push(`  not in the file (apply by hand): ${u}`);
  }
  return out.join('\n');
}
