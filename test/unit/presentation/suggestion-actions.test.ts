// From suggestions to the editor's actions: titles with the re-analysed peak, the lines each
// action shows on (its nodes' lines and where its edit goes), quick fix vs refactoring, the
// preferred one, refusals on stale text, PyTorch targets and the Fit to Budget picks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { withDefaults } from '../../../extension/engine/settings';
import { fitBudget } from '../../../extension/engine/suggest/planner';
import { costText, suggestRewrites } from '../../../extension/engine/suggest/suggest';
import type { Suggestion } from '../../../extension/engine/suggest/types';
import { formatBytes } from '../../../extension/engine/units';
import {
  actionTitle, actionsForLine, peakChange, planPicks, staleReason, suggestionLines, type LineSuggestion,
} from '../../../extension/presentation/suggestion-actions';
import { spanEdit } from '../../../language/plain-edit';
import { pythonTarget, rewriteFits } from '../../../language/python/suggestion-rewrites';
import { piecesOfSuggestion, sourceRewrite } from '../../../language/typescript/rewrites/apply-to-source';
import { applyEdits } from '../../../language/typescript/rewrites/text-edit';
import { FILE, NET_PY, NET_TS, net } from './net-model';

const train = withDefaults({ mode: 'train', optimizer: 'adamw' });
const model = net();
const profile = analyzeModel(model, train, { source: FILE, entry: 'net' });
const suggestions = suggestRewrites(model, train, { source: FILE, profile });
const byId = (id: string): Suggestion => {
  const s = suggestions.find((x) => x.id === id);
  assert.ok(s, `no ${id} in ${suggestions.map((x) => x.id).join(', ')}`);
  return s;
};

/** What the code-action provider prepares for a TypeScript document: edit lines from the real rewrite. */
function prepared(): LineSuggestion[] {
  const out: LineSuggestion[] = [];
  for (const s of suggestions) {
    const r = sourceRewrite(FILE, NET_TS, piecesOfSuggestion(s));
    if (r.edits.length === 0) continue;
    const editLines = r.edits.map((e) => e.start.line + 1).filter((l) => !NET_TS.split('\n')[l - 1].startsWith('import'));
    out.push({ suggestion: s, costLabel: costText(s.cost), lines: suggestionLines(s, FILE, editLines) });
  }
  return out;
}

test('peakChange shares the unit when both sides have it', () => {
  const GiB = 2 ** 30;
  assert.equal(peakChange(14.2 * GiB, 9.8 * GiB), '14.2 → 9.8 GiB');
  assert.equal(peakChange(1.4 * GiB, 476.3 * 2 ** 20), '1.4 GiB → 476.3 MiB');
});

test('a title states the re-analysed peak and the cost; without a re-analysis the formula figure is marked ≈', () => {
  const s = byId('checkpoint:blocks');
  assert.ok(s.reanalysed);
  assert.equal(
    actionTitle(s, profile.peak.bytes, costText(s.cost)),
    `Checkpoint every layer of blocks (4 layers): peak ${peakChange(profile.peak.bytes, s.reanalysed.peakBytes)}, +100% forward compute`,
  );
  const formulaOnly: Suggestion = { ...s, reanalysed: null, predicted: { ...s.predicted, savingBytes: 1024 * 1024 } };
  assert.equal(actionTitle(formulaOnly, 8 * 2 ** 20, '+1% forward compute', 'Do it'), 'Do it: peak ≈8.0 → 7.0 MiB, +1% forward compute');
});

test('the layer loop line offers checkpoint and offload of the loop; the best exact one is preferred', () => {
  const list = prepared();
  const loop = list.find((l) => l.suggestion.id === 'checkpoint:blocks');
  assert.ok(loop);
  // Its nodes are on lines 7 and 8, its edit wraps the call on line 15.
  assert.deepEqual(loop.lines, [7, 8, 15]);
  const actions = actionsForLine(list, 15, FILE, profile.peak.bytes, false);
  assert.deepEqual(actions.map((a) => a.suggestion.id).sort(), ['checkpoint:blocks', 'offload:blocks']);
  assert.ok(actions.every((a) => a.kind === 'refactor' && !a.fixesLine));
  assert.equal(actions.filter((a) => a.isPreferred).length, 1);
  // Ranked best first by the engine; both keep results exact, so the first is preferred.
  assert.equal(actions[0].isPreferred, true);
  assert.match(actions.find((a) => a.suggestion.id === 'checkpoint:blocks')!.title, /^Checkpoint every layer of blocks \(4 layers\): peak /);
  // A line with neither figures nor edits offers nothing.
  assert.deepEqual(actionsForLine(list, 16, FILE, profile.peak.bytes, false), []);
});

test('on an over-budget line the suggestions that change what it holds are quick fixes', () => {
  const list = prepared();
  const onFigures = actionsForLine(list, 7, FILE, profile.peak.bytes, true);
  assert.ok(onFigures.length >= 2);
  assert.ok(onFigures.every((a) => a.kind === 'quickfix' && a.fixesLine));
  // Without a problem on the line they are refactorings, and the loop line is never a fix.
  assert.ok(actionsForLine(list, 7, FILE, profile.peak.bytes, false).every((a) => a.kind === 'refactor'));
  assert.ok(actionsForLine(list, 15, FILE, profile.peak.bytes, true).every((a) => a.kind === 'refactor'));
});

test('suggestions that do not lower the peak are left out, and approximate ones are not preferred over exact ones', () => {
  const s = byId('checkpoint:blocks');
  const none: LineSuggestion = { suggestion: { ...s, id: 'none', reanalysed: { ...s.reanalysed!, savingBytes: 0 } }, costLabel: '', lines: [15] };
  const approx: LineSuggestion = {
    suggestion: { ...s, id: 'approx', reanalysed: { ...s.reanalysed!, savingBytes: s.reanalysed!.savingBytes * 2 }, cost: { ...s.cost, accuracy: 'approximate' } },
    costLabel: 'approximate results',
    lines: [15],
  };
  const exact: LineSuggestion = { suggestion: s, costLabel: costText(s.cost), lines: [15] };
  const actions = actionsForLine([none, approx, exact], 15, FILE, profile.peak.bytes, false);
  assert.deepEqual(actions.map((a) => [a.suggestion.id, a.isPreferred]), [['approx', false], ['checkpoint:blocks', true]]);
});

test('with a budget the preferred fix is the cheapest that fits it, and the titles say which fit', () => {
  const s = byId('checkpoint:blocks');
  const GiB = 2 ** 30;
  const base = 4 * GiB;
  const at = (peakBytes: number) => ({ ...s.reanalysed!, peakBytes, savingBytes: base - peakBytes });
  // Three fixes on one line: int4 lowest (approximate, tier 3), int8 (approximate, tier 2), checkpointing (exact, recompute).
  const int4: LineSuggestion = { suggestion: { ...s, id: 'int4', kind: 'quantize-weights', detail: { kind: 'quantize', modules: ['model'], format: 'int4', groupSize: 32 }, reanalysed: at(1 * GiB), cost: { ...s.cost, recomputeFlops: 0, recomputeShare: 0, accuracy: 'approximate' } }, costLabel: 'approximate results', lines: [15] };
  const int8: LineSuggestion = { suggestion: { ...s, id: 'int8', kind: 'quantize-weights', detail: { kind: 'quantize', modules: ['model'], format: 'int8', groupSize: null }, reanalysed: at(2 * GiB), cost: { ...s.cost, recomputeFlops: 0, recomputeShare: 0, accuracy: 'approximate' } }, costLabel: 'approximate results', lines: [15] };
  const ckpt: LineSuggestion = { suggestion: { ...s, reanalysed: at(2.5 * GiB) }, costLabel: costText(s.cost), lines: [15] };
  const list = [int4, int8, ckpt];
  const preferred = (budget: number | null) => actionsForLine(list, 15, FILE, base, false, budget).find((a) => a.isPreferred)!.suggestion.id;
  // 3 GiB: all three fit; checkpointing keeps results exact, so it is the cheapest.
  assert.equal(preferred(3 * GiB), 'checkpoint:blocks');
  // 2 GiB: checkpointing does not fit; of the two that do, int8 costs less accuracy than int4.
  assert.equal(preferred(2 * GiB), 'int8');
  // Same tier, same (no) recompute: the smaller change that fits, one layer in int4 before the whole model.
  const fc1int4: LineSuggestion = { ...int4, suggestion: { ...int4.suggestion, id: 'fc1-int4', detail: { kind: 'quantize', modules: ['fc1'], format: 'int4', groupSize: 32 }, reanalysed: at(1.4 * GiB) } as Suggestion };
  assert.equal(actionsForLine([int4, fc1int4], 15, FILE, base, false, 1.5 * GiB).find((a) => a.isPreferred)!.suggestion.id, 'fc1-int4');
  assert.equal(actionsForLine([int4, fc1int4], 15, FILE, base, false, 1.2 * GiB).find((a) => a.isPreferred)!.suggestion.id, 'int4');
  // 1.5 GiB: only int4 fits.
  assert.equal(preferred(1.5 * GiB), 'int4');
  // None fits (or no budget): the best exact one, as without a budget.
  assert.equal(preferred(0.5 * GiB), 'checkpoint:blocks');
  assert.equal(preferred(null), 'checkpoint:blocks');
  const marked = actionsForLine(list, 15, FILE, base, false, 2 * GiB);
  assert.deepEqual(marked.map((a) => [a.suggestion.id, a.fits]), [['int4', true], ['int8', true], ['checkpoint:blocks', false]]);
  assert.match(marked[1].title, / · fits the 2\.0 GiB budget$/);
  assert.doesNotMatch(marked[2].title, /fits/);
  assert.ok(actionsForLine(list, 15, FILE, base, false, null).every((a) => a.fits === null && !/fits/.test(a.title)));
});

test('a fix that recomputes random ops says so in its title and is not preferred over one that does not', () => {
  const s = byId('checkpoint:blocks');
  const dropout: LineSuggestion = { suggestion: { ...s, id: 'dropout', caveats: [{ kind: 'recomputes-random', ops: ['Dropout'] }] }, costLabel: costText(s.cost), lines: [15] };
  const clean: LineSuggestion = { suggestion: s, costLabel: costText(s.cost), lines: [15] };
  const actions = actionsForLine([dropout, clean], 15, FILE, profile.peak.bytes, false);
  assert.match(actions[0].title, /, \+100% forward compute, recomputes Dropout \(new random numbers\)$/);
  assert.deepEqual(actions.map((a) => [a.suggestion.id, a.isPreferred]), [['dropout', false], ['checkpoint:blocks', true]]);
});

test('stale text is refused with one clear reason', () => {
  const base = { name: 'net.ts', isDirty: false, textHash: 'a', analysedHash: 'a' };
  assert.equal(staleReason(base), null);
  assert.equal(staleReason({ ...base, isDirty: true }), 'net.ts has unsaved changes: save it first, so the figures describe its text');
  assert.equal(staleReason({ ...base, textHash: 'b' }), 'net.ts changed since it was profiled: profile it again first');
  assert.equal(staleReason({ ...base, analysedHash: undefined }), 'net.ts was not part of the analysed model');
});

test('PyTorch targets: the loop over self.blocks, a block call, forward for autocast', () => {
  const loop = pythonTarget(byId('checkpoint:blocks'), NET_PY, '/ws/net.py', '/ws/net.py');
  assert.deepEqual(loop && { kind: loop.kind, lines: loop.lines }, { kind: 'checkpoint', lines: [10] });
  const off = pythonTarget(byId('offload:blocks'), NET_PY, '/ws/net.py', '/ws/net.py');
  assert.deepEqual(off && { kind: off.kind, lines: off.lines }, { kind: 'offload-activations', lines: [10] });
  const child = pythonTarget({ ...byId('checkpoint:blocks'), kind: 'checkpoint-block', detail: { kind: 'checkpoint', loop: 'blocks', child: 'ln', layers: 4 } }, NET_PY, '/ws/net.py', '/ws/net.py');
  assert.ok(child);
  assert.deepEqual(child.lines, [6]);
  // On line 6 the outermost block call is self.mlp: a rewrite wrapping it is not "checkpoint ln".
  assert.equal(rewriteFits(child, [{ newText: 'torch.utils.checkpoint.checkpoint(self.mlp, self.ln(x), use_reentrant=False)' }]), false);
  assert.equal(rewriteFits(child, [{ newText: 'torch.utils.checkpoint.checkpoint(self.ln, x, use_reentrant=False)' }]), true);
  const bf16 = suggestions.find((s) => s.kind === 'mixed-precision');
  assert.ok(bf16);
  assert.deepEqual(pythonTarget(bf16, NET_PY, '/ws/net.py', '/ws/net.py')?.lines, [9]);
  // Autocast goes in the profiled model's file only.
  assert.equal(pythonTarget(bf16, NET_PY, '/ws/lib.py', '/ws/net.py'), null);
});

test('Fit to Budget picks: the plan first, then the frontier by peak and recompute', () => {
  const budget = Math.floor((profile.peak.bytes + byId('checkpoint:blocks').reanalysed!.peakBytes) / 2);
  const plan = fitBudget(model, train, budget, { source: FILE, target: 'typescript' });
  assert.equal(plan.fits, true);
  const picks = planPicks(plan);
  assert.equal(picks[0].chosen, true);
  assert.match(picks[0].label, /^\$\(check\) Plan: checkpoint \d layers?$/);
  assert.equal(picks[0].description, `peak ${peakChange(plan.baselinePeakBytes, plan.chosen.verifiedPeakBytes)} · +${Math.round(100 * plan.chosen.recomputeShare)}% recompute · exact`);
  for (const p of picks.slice(1)) {
    assert.equal(p.chosen, false);
    assert.ok(p.peakBytes !== null);
    assert.match(p.label, new RegExp(`^${formatBytes(p.peakBytes).replace('.', '\\.')} · \\+\\d+% recompute$`));
  }
  // Every frontier point but "as is" and the chosen one is offered.
  assert.equal(picks.length, plan.frontier.filter((p) => p.globals.length + p.checkpointed.length > 0).length);
});

test('a rewritten text becomes one edit covering only what changed', () => {
  const before = 'import torch\n\nclass Net:\n    def forward(self, x):\n        return self.f(x)\n';
  const after = 'import torch\nimport torch.utils.checkpoint\n\nclass Net:\n    def forward(self, x):\n        return checkpoint(self.f, x)\n';
  const e = spanEdit(before, after);
  assert.ok(e);
  // The shared head ends after "import torch\n", the shared tail is "x)\n": the edit spans from
  // the start of line 2 to the call's argument on line 5.
  assert.deepEqual(e.start, { line: 1, character: 0 });
  assert.deepEqual(e.end, { line: 4, character: 22 });
  assert.equal(applyEdits(before, [{ file: 'x', ...e }]), after);
  assert.equal(spanEdit(before, before), null);
  assert.equal(applyEdits('', [{ file: 'x', ...spanEdit('', 'a\nb')! }]), 'a\nb');
});
