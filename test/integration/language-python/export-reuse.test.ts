// Re-profiling a Python model in the editor's way (kept worker, profileFile) with Debian's
// /usr/bin/python3 and torch 1.13: an edit that leaves the exported graph as it was (a comment)
// reuses the analysis and gives the profile a fresh one gives; an edit that moves the model's
// lines or changes the model is analysed anew, with the new lines and figures. The torch probe is
// asked once per kept worker, again after the worker ends.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { profileFile } from '../../../extension/analysis/profile-file';
import { reuseCounts } from '../../../extension/analysis/profile-reuse';
import { MEMLENS_LINE } from '../../../extension/engine/metadata-keys';
import { withDefaults } from '../../../extension/engine/settings';
import { exportPythonModel } from '../../../language/python/export';
import { perWorker, stopPythonWorkers } from '../../../language/python/python-worker';
import { runPython } from '../../../language/python/run-python';

const PY = '/usr/bin/python3';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-export-reuse-'));
const cacheDir = path.join(dir, 'cache');
after(async () => {
  await stopPythonWorkers();
  fs.rmSync(dir, { recursive: true, force: true });
});

const model = (width: number, head = '', tail = '') => `${head}import torch\nimport torch.nn as nn\n\nclass Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(64, ${width})\n        self.out = nn.Linear(${width}, 8)\n\n    def forward(self, x):\n        return self.out(torch.relu(self.fc(x)))\n\n# memlens: input x = (batch, 64) float32\n${tail}`;

const settings = withDefaults({ batch: 4 });
const profile = (file: string) => profileFile({ file, settings, trusted: true, timeoutMs: 120_000, keepWorkers: true, pythonPath: PY });
const exported = (file: string) => exportPythonModel(file, { settings, trusted: true, timeoutMs: 120_000, keepWorker: true, pythonPath: PY, cacheDir });
/** Lines the profile attributes bytes to. */
const lines = (p: Awaited<ReturnType<typeof profile>>['profile']) => p.lines.flatMap((l) => (l.line !== null ? [l.line] : [])).sort((a, b) => a - b);

describe('re-profiling a Python model after an edit', () => {
  const file = path.join(dir, 'tiny.py');

  it('an edit outside the model exports the same graph, and its analysis is reused', async () => {
    fs.writeFileSync(file, model(32));
    const first = await exported(file);
    fs.writeFileSync(file, model(32, '', '# a comment at the end\n'));
    const second = await exported(file);
    assert.notEqual(second.onnxPath, first.onnxPath, 'the text changed: a new export ran');
    assert.equal(second.graphHash, first.graphHash, 'the same bytes with the same annotations');

    const start = reuseCounts().reused;
    fs.writeFileSync(file, model(32, '', '# save 1\n'));
    const a = await profile(file);
    assert.equal(reuseCounts().reused, start, 'the first profile of this graph is a fresh analysis');
    fs.writeFileSync(file, model(32, '', '# save 2\n'));
    const b = await profile(file);
    assert.equal(reuseCounts().reused, start + 1, 'the second profile reused the first one\'s analysis');
    // The reused profile is what the fresh analysis gave.
    assert.deepEqual(b.profile, a.profile);
    assert.notEqual(b.profile, a.profile, 'each caller gets its own copy');
  });

  it('an edit that moves the model\'s lines or changes it is analysed anew', async () => {
    fs.writeFileSync(file, model(32));
    const a = await profile(file);
    fs.writeFileSync(file, model(32, '# two lines\n# above the model\n'));
    const moved = await exported(file);
    const start = reuseCounts().reused;
    const b = await profile(file);
    assert.equal(reuseCounts().reused, start, 'moved lines: not reused');
    assert.deepEqual(lines(b.profile), lines(a.profile).map((l) => l + 2), 'the figures are on the moved lines');
    assert.ok(moved.model.graph.nodes.some((n) => n.metadata[MEMLENS_LINE] !== undefined));

    fs.writeFileSync(file, model(48, '# two lines\n# above the model\n'));
    const c = await profile(file);
    assert.equal(reuseCounts().reused, start, 'another model: not reused');
    assert.ok(c.profile.breakdown.weights > b.profile.breakdown.weights, 'the wider layer weighs more');
  });

  it('the torch probe is asked once per kept worker, again when a new worker starts', async () => {
    let asked = 0;
    const ask = async () => {
      asked++;
      return (await runPython(PY, ['-c', 'import os; print(os.getppid())'], { what: 'probe', cwd: dir, warm: true, timeoutMs: 60_000 })).stdout.trim();
    };
    const one = await perWorker(PY, 'test-probe', ask);
    assert.equal(await perWorker(PY, 'test-probe', ask), one);
    assert.equal(asked, 1);
    await stopPythonWorkers();
    const two = await perWorker(PY, 'test-probe', ask);
    assert.equal(asked, 2, 'a new worker is asked again');
    assert.notEqual(two, one, 'by another worker');
  });

  it('a run starts with the bridge\'s shared module already imported by the worker', async () => {
    const run = await runPython(PY, ['-c', "import sys; print('memlens_user_code' in sys.modules)"], { what: 'check', cwd: dir, warm: true, timeoutMs: 60_000 });
    assert.equal(run.stdout.trim(), 'True');
  });
});
