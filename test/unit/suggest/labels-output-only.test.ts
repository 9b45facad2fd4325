// Labels are output only. With every suggestion and plan label replaced by garbage, the engine
// (suggestions, ranking, plans), the editor's presentation (line actions, Fit to Budget picks)
// and the source rewrites (TypeScript and Python placements, edits and plans) behave exactly as
// with the real labels; only the text shown to people changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Model } from '../../../extension/engine/graph';
import { analyzeModel } from '../../../extension/engine/analyze';
import { withDefaults, type AnalysisSettings } from '../../../extension/engine/settings';
import { LABELS, type SuggestionLabels } from '../../../extension/engine/suggest/labels';
import { fitBudget, type Plan, type PlanTarget } from '../../../extension/engine/suggest/planner';
import { costText, suggestRewrites } from '../../../extension/engine/suggest/suggest';
import type { Suggestion } from '../../../extension/engine/suggest/types';
import { actionsForLine, changesNothing, planPicks, suggestionLines, type LineSuggestion } from '../../../extension/presentation/suggestion-actions';
import { sourceRewriter, type SourceLanguage } from '../../../language/source-rewrites';
import { syntheticDecoder } from '../../fixtures/synthetic-decoder';
import { tinyDecoder } from '../../fixtures/layered-models';
import { FILE, NET_PY, NET_TS, net } from '../presentation/net-model';

const GARBAGE = '\u0000¤ not a label ¤';
const garbage: SuggestionLabels = { action: () => GARBAGE, layers: () => GARBAGE, caveat: () => GARBAGE };

/** A suggestion without the fields made from its labels (the warnings word its caveats). */
const behaviour = ({ action, title, warnings, ...rest }: Suggestion) => ({ ...rest, otherWarnings: warnings.filter((w) => w !== GARBAGE && !rest.caveats.some((c) => w === LABELS.caveat(c))) });

/** A plan without the text made from labels. */
function planBehaviour(p: Plan) {
  const { globals, steps, ...chosen } = p.chosen;
  return {
    ...p,
    chosen: { ...chosen, globals: globals.length, steps: steps.map(({ label, ...s }) => s) },
    frontier: p.frontier.map(({ globals: g, ...rest }) => ({ ...rest, globals: g.length })),
  };
}

interface Scenario {
  name: string;
  model: Model;
  settings: AnalysisSettings;
  budgets: number[];
  targets: PlanTarget[];
}

const scenarios: Scenario[] = [
  { name: 'residual MLP, training', model: net(), settings: withDefaults({ mode: 'train' }), budgets: [0.8, 0.5], targets: ['any', 'typescript'] },
  { name: 'explicit-attention decoder, training', model: tinyDecoder({ layers: 3, batch: 2, seq: 16, hidden: 32, heads: 4, vocab: 500 }), settings: withDefaults({ mode: 'train' }), budgets: [0.7], targets: ['any', 'onnx'] },
  {
    name: 'decoder with a KV cache, inference',
    model: syntheticDecoder({ layers: 4, hidden: 64, heads: 4, kvHeads: 2, ffn: 128, vocab: 300 }),
    settings: withDefaults({ batch: 2, dims: { sequence: 5, past_sequence: 7, total_sequence: 12 } }),
    budgets: [0.8], targets: ['any', 'typescript', 'onnx'],
  },
];

async function placements(language: SourceLanguage, text: string, list: Suggestion[]) {
  const rewriter = await sourceRewriter(language);
  const file = language === 'typescript' ? FILE : '/ws/net.py';
  const out: LineSuggestion[] = [];
  const placed: unknown[] = [];
  for (const s of list) {
    const p = await rewriter.place(s, file, text, file);
    placed.push(p && { ...p, edits: await rewriter.edits(s, p.site, file, text) });
    if (p) out.push({ suggestion: s, costLabel: costText(s.cost), lines: suggestionLines(s, file, p.lines), action: p.action ?? undefined });
  }
  const peak = list[0]?.predicted.peakBytes ?? 0;
  const lines = text.split('\n').map((_, i) => i + 1);
  const actions = lines.map((line) => actionsForLine(out, line, file, peak, line % 2 === 0)
    .map(({ suggestion, kind, isPreferred, fixesLine }) => [suggestion.id, kind, isPreferred, fixesLine]));
  return { placed, actions };
}

async function plans(model: Model, settings: AnalysisSettings, budgets: number[], targets: PlanTarget[], labels?: SuggestionLabels) {
  const peak = analyzeModel(model, settings, { source: FILE, entry: null }).peak.bytes;
  const out: unknown[] = [];
  const shown: string[] = [];
  for (const f of budgets) {
    for (const target of targets) {
      const plan = fitBudget(model, settings, Math.floor(peak * f), { source: FILE, target, labels });
      const ts = await (await sourceRewriter('typescript')).applyPlan(plan, FILE, NET_TS, FILE);
      const py = await (await sourceRewriter('python')).applyPlan(plan, '/ws/net.py', NET_PY, '/ws/net.py');
      const picks = planPicks(plan).map((p) => [p.chosen, p.peakBytes]);
      out.push({ plan: planBehaviour(plan), picks, nothing: changesNothing(plan.chosen), ts: [ts.text, ts.edits, ts.unmapped.length], py: [py.text, py.edits, py.unmapped.length] });
      // Python names each step it found no place for by its label; TypeScript names the missing construct.
      shown.push(...plan.chosen.globals, ...plan.chosen.steps.map((s) => s.label), ...py.unmapped);
    }
  }
  return { out, shown };
}

for (const s of scenarios) {
  test(`${s.name}: the same suggestions, placements, edits and plans with garbage labels`, async () => {
    const real = suggestRewrites(s.model, s.settings, { source: FILE });
    const fake = suggestRewrites(s.model, s.settings, { source: FILE, labels: garbage });
    assert.ok(real.length > 0);
    assert.deepEqual(fake.map(behaviour), real.map(behaviour));
    assert.ok(fake.every((x) => x.action === GARBAGE && x.title.startsWith(GARBAGE)), 'the garbage labels reached the output');
    assert.ok(real.every((x) => !x.action.includes(GARBAGE)));
    for (const [language, text] of [['typescript', NET_TS], ['python', NET_PY]] as const) {
      assert.deepEqual(await placements(language, text, fake), await placements(language, text, real), `${language} placements`);
    }
    const realPlans = await plans(s.model, s.settings, s.budgets, s.targets);
    const fakePlans = await plans(s.model, s.settings, s.budgets, s.targets, garbage);
    assert.deepEqual(fakePlans.out, realPlans.out);
    assert.ok(fakePlans.shown.every((t) => t.includes(GARBAGE)), 'every label of the plans is the garbage one');
  });
}

test('the residual MLP exercises what the garbage could break: placed rewrites and plans with steps', async () => {
  const real = suggestRewrites(net(), withDefaults({ mode: 'train' }), { source: FILE });
  const ts = await placements('typescript', NET_TS, real);
  const py = await placements('python', NET_PY, real);
  assert.ok(ts.placed.filter(Boolean).length >= 3, 'TypeScript placements');
  assert.ok(py.placed.filter(Boolean).length >= 2, 'Python placements');
  assert.ok(ts.actions.some((a) => a.length > 1));
  const { out } = await plans(net(), withDefaults({ mode: 'train' }), [0.8], ['any']);
  const [only] = out as { plan: Plan; py: [string, unknown[], number] }[];
  assert.ok(only.plan.chosen.steps.some((x) => x.kind === 'checkpoint-layers'), 'the plan checkpoints layers');
  assert.match(only.py[0], /checkpoint\(block, x, use_reentrant=False\) if i < 2 else block\(x\)/);
});
