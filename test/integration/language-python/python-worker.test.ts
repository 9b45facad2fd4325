// The kept Python worker with Debian's /usr/bin/python3 and torch 1.13: torch is imported once and
// every run is a fork of the worker (the same parent pid, torch already in sys.modules before the
// user's code imports it); a changed file is read again and no state crosses from one run to the
// next; a crash of the run leaves the worker warm, a crash of the worker starts another; the time
// and memory limits end the worker (and everything it started) with one line; what a run started
// is killed when it ends; cancelling kills only the run.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMemlensError } from '../../../extension/engine/errors';
import { MEMLENS_LINE } from '../../../extension/engine/metadata-keys';
import { withDefaults } from '../../../extension/engine/settings';
import { exportPythonModel } from '../../../language/python/export';
import { measureTorchModel } from '../../../language/python/measure';
import { stopPythonWorkers } from '../../../language/python/python-worker';
import { runPython } from '../../../language/python/run-python';
import { alive, waitForPid } from '../../fixtures/processes';
import { oneLineError } from '../../fixtures/one-line-error';

const PY = '/usr/bin/python3';
const MIB = 2 ** 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-python-worker-'));
after(async () => {
  await stopPythonWorkers();
  fs.rmSync(dir, { recursive: true, force: true });
});
const base = { what: 'job.py: export', cwd: dir, warm: true, timeoutMs: 60_000 };

/** The run's parent (the worker, for a warm run) and whether torch was loaded before the code ran. */
const WHO = "import os, sys\nprint('who', os.getpid(), os.getppid(), 'torch' in sys.modules)";

async function who(options: Partial<typeof base> & { memoryLimitBytes?: number } = {}): Promise<{ pid: number; parent: number; torchLoaded: boolean }> {
  const run = await runPython(PY, ['-c', WHO], { ...base, ...options });
  const m = /who (\d+) (\d+) (True|False)/.exec(run.stdout);
  assert.ok(m, `the probe printed: ${run.stdout}`);
  return { pid: Number(m[1]), parent: Number(m[2]), torchLoaded: m[3] === 'True' };
}

const model = (width: number, head = '') => `${head}import torch\nimport torch.nn as nn\n\nclass Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, ${width})\n\n    def forward(self, x):\n        return self.fc(x)\n`;

/** The model file records, before it imports torch, which process ran it and whether torch was loaded. */
const recording = (file: string) => `import os as _os, sys as _sys\nopen(${JSON.stringify(file)}, 'a').write('%d %d %s %s\\n' % (_os.getpid(), _os.getppid(), 'torch' in _sys.modules, hasattr(_sys, '_memlens_leak')))\n_sys._memlens_leak = 1\n`;

describe('the kept Python worker', () => {
  const exportOptions = { trusted: true, pythonPath: PY, timeoutMs: 120_000, cacheDir: path.join(dir, 'cache'), keepWorker: true };

  it('imports torch once: two exports run in forks of one worker, with torch loaded before the model imports it', async () => {
    const log = path.join(dir, 'runs.log');
    const a = path.join(dir, 'a.py');
    const b = path.join(dir, 'b.py');
    fs.writeFileSync(a, model(8, recording(log)));
    fs.writeFileSync(b, model(4, recording(log)));
    await exportPythonModel(a, { ...exportOptions, settings: withDefaults({}) });
    await exportPythonModel(b, { ...exportOptions, settings: withDefaults({}) });
    const runs = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '));
    assert.equal(runs.length, 2);
    assert.equal(runs[0][1], runs[1][1], 'the same worker forked both');
    assert.notEqual(runs[0][0], runs[1][0], 'each in a process of its own');
    assert.deepEqual(runs.map((r) => r[2]), ['True', 'True'], 'torch was imported by the worker, not by the model');
    // Module state set by the first run (sys._memlens_leak) is not seen by the second.
    assert.deepEqual(runs.map((r) => r[3]), ['False', 'False']);
    // A cold run imports torch itself: the probe tells the two apart.
    assert.equal((await who({ warm: false })).torchLoaded, false);
  });

  it('reuses the export when only settings that do not change the graph change, with the same annotations', async () => {
    const log = path.join(dir, 'cached.log');
    const file = path.join(dir, 'cached.py');
    fs.writeFileSync(file, model(8, recording(log)));
    const fresh = await exportPythonModel(file, { ...exportOptions, settings: withDefaults({ mode: 'train' }) });
    const again = await exportPythonModel(file, { ...exportOptions, settings: withDefaults({ mode: 'train', dtype: 'bf16', optimizer: 'sgd' }) });
    assert.equal(fs.readFileSync(log, 'utf8').trim().split('\n').length, 1, 'the second export ran no Python');
    assert.equal(again.onnxPath, fresh.onnxPath);
    assert.deepEqual(again.model.graph.nodes.map((n) => n.metadata), fresh.model.graph.nodes.map((n) => n.metadata));
    assert.deepEqual(again.model.metadata, fresh.model.metadata);
    assert.ok(fresh.model.graph.nodes.some((n) => n.metadata[MEMLENS_LINE] !== undefined), 'the nodes carry their lines');
    // Another mode is another graph (dropout, batch-norm statistics): a new export.
    await exportPythonModel(file, { ...exportOptions, settings: withDefaults({ mode: 'infer' }) });
    assert.equal(fs.readFileSync(log, 'utf8').trim().split('\n').length, 2);
  });

  it('a measured PyTorch run in a fork of the worker gives the cold run\'s figures, under its memory cap', async () => {
    const file = path.join(dir, 'measured.py');
    const options = { trusted: true, pythonPath: PY, timeoutMs: 120_000, settings: withDefaults({ mode: 'train', batch: 16 }), steps: 2, device: 'cpu' as const, optimizerGiven: true, memoryLimitBytes: 2 ** 30 };
    fs.writeFileSync(file, `# memlens: input x = (batch, 8) float32\n${model(32)}`);
    const cold = await measureTorchModel(file, options);
    const warm = await measureTorchModel(file, { ...options, keepWorker: true });
    assert.deepEqual(warm.totals, cold.totals);
    assert.deepEqual(warm.baseline, cold.baseline);
    assert.deepEqual(warm.steps.map((s) => s.peakBytes), cold.steps.map((s) => s.peakBytes));
    assert.equal(warm.peak.bytes, cold.peak.bytes);
    // The bridge's address-space cap is counted from what the fork maps at its start.
    const hog = path.join(dir, 'hog.py');
    fs.writeFileSync(hog, `# memlens: input x = (batch, 8) float32\n${model(8).replace('return self.fc(x)', 'return self.fc(x) + torch.zeros(2**28).sum()')}`);
    await assert.rejects(measureTorchModel(hog, { ...options, keepWorker: true, memoryLimitBytes: 256 * MIB }), (e: unknown) => isMemlensError(e) && /^hog\.py: out of memory: the run went over its memory limit/.test(e.message));
  });

  it('reads a changed file again', async () => {
    const file = path.join(dir, 'edited.py');
    const outWidth = async () => {
      const r = await exportPythonModel(file, { ...exportOptions, settings: withDefaults({}) });
      const weight = [...r.model.graph.initializers.values()].find((t) => t.dims.length === 2);
      return weight?.dims;
    };
    fs.writeFileSync(file, model(8));
    assert.deepEqual(await outWidth(), [8, 8]);
    fs.writeFileSync(file, model(24));
    assert.deepEqual(await outWidth(), [24, 8]);
  });

  it('a crash of the run leaves the worker warm; a crash of the worker starts another', async () => {
    const first = await who();
    assert.ok(first.torchLoaded);
    assert.equal(await oneLineError(runPython(PY, ['-c', 'import os, signal; os.kill(os.getpid(), signal.SIGSEGV)'], base)), 'job.py: export crashed with signal SIGSEGV');
    assert.equal((await who()).parent, first.parent, 'the same worker after the run crashed');
    const message = await oneLineError(runPython(PY, ['-c', 'import os, signal; os.kill(os.getppid(), signal.SIGKILL)'], base));
    assert.match(message, /^job\.py: export (was killed by SIGKILL|crashed)/);
    assert.ok(!alive(first.parent), 'the old worker is gone');
    const next = await who();
    assert.notEqual(next.parent, first.parent, 'a new worker');
    assert.ok(next.torchLoaded);
  });

  it('the time limit ends the worker and what the run started; the next run gets a new worker', async () => {
    const before = await who();
    const pidFile = path.join(dir, 'sleep.pid');
    const code = `import subprocess, time\np = subprocess.Popen(['sleep', '300'])\nopen(${JSON.stringify(pidFile)}, 'w').write(str(p.pid))\ntime.sleep(3600)`;
    assert.equal(await oneLineError(runPython(PY, ['-c', code], { ...base, timeoutMs: 2000 })), 'job.py: export timed out after 2 s');
    const sleeper = Number(fs.readFileSync(pidFile, 'utf8'));
    await waitForPid(sleeper, false, 3000);
    assert.ok(!alive(sleeper), `sleep ${sleeper} is gone`);
    await waitForPid(before.parent, false, 3000);
    assert.ok(!alive(before.parent), 'the worker is gone');
    assert.notEqual((await who()).parent, before.parent);
  });

  it('the memory limit covers the worker and its forks', async () => {
    const limits = { memoryLimitBytes: 768 * MIB };
    const message = await oneLineError(runPython(PY, ['-c', "b = bytearray(b'\\x01') * (2 << 30)"], { ...base, ...limits }));
    assert.match(message, /^job\.py: export ran out of memory: RSS [\d.]+ (MiB|GiB) over the limit of 768\.0 MiB$/);
    assert.ok((await who(limits)).torchLoaded, 'a new worker under the same limit');
  });

  it('kills a start_new_session daemon a run started when the run ends, and stays warm', async () => {
    const before = await who();
    const pidFile = path.join(dir, 'daemon.pid');
    const code = `import subprocess, sys\nd = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\nopen(${JSON.stringify(pidFile)}, 'w').write(str(d.pid))`;
    assert.equal((await runPython(PY, ['-c', code], base)).code, 0);
    const daemon = Number(fs.readFileSync(pidFile, 'utf8'));
    await waitForPid(daemon, false, 3000);
    assert.ok(!alive(daemon), `daemon ${daemon} is gone`);
    assert.equal((await who()).parent, before.parent);
  });

  it('a worker whose editor process dies goes with it, and so does its run', async () => {
    const pidFile = path.join(dir, 'orphan.pid');
    const runPythonJs = path.join(__dirname, '../../../language/python/run-python.js');
    const code = `import os, time\nopen(${JSON.stringify(pidFile)}, 'w').write('%d %d' % (os.getpid(), os.getppid()))\ntime.sleep(3600)`;
    const host = spawn(process.execPath, ['-e', `require(${JSON.stringify(runPythonJs)}).runPython(${JSON.stringify(PY)}, ['-c', ${JSON.stringify(code)}], { what: 'orphan', cwd: ${JSON.stringify(dir)}, timeoutMs: 600000, warm: true })`], { stdio: 'ignore' });
    const end = Date.now() + 30_000;
    while (!fs.existsSync(pidFile) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const [run, worker] = fs.readFileSync(pidFile, 'utf8').split(' ').map(Number);
    assert.ok(alive(run) && alive(worker));
    host.kill('SIGKILL');
    await waitForPid(worker, false, 5000);
    await waitForPid(run, false, 5000);
    assert.ok(!alive(worker), `worker ${worker} is gone`);
    assert.ok(!alive(run), `run ${run} is gone`);
  });

  it('an interpreter that does not exist is one line', async () => {
    assert.equal(await oneLineError(runPython('/nonexistent/python3', ['-c', 'pass'], base)),
      'Python interpreter not found: /nonexistent/python3 (set memlens.pythonPath to a Python with torch installed)');
  });

  it('cancelling kills the run, not the worker', async () => {
    const before = await who();
    const controller = new AbortController();
    const pidFile = path.join(dir, 'cancelled.pid');
    const running = runPython(PY, ['-c', `import os, time\nopen(${JSON.stringify(pidFile)}, 'w').write(str(os.getpid()))\ntime.sleep(3600)`], { ...base, signal: controller.signal });
    const end = Date.now() + 20_000;
    while (!fs.existsSync(pidFile) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    assert.equal(await oneLineError(running), 'job.py: export cancelled');
    const t0 = Date.now();
    const after = await who();
    assert.ok(Date.now() - t0 < 10_000, 'the next run did not wait for the cancelled one to sleep out');
    assert.equal(after.parent, before.parent);
    assert.ok(!alive(Number(fs.readFileSync(pidFile, 'utf8'))));
  });
});
