// Python under the supervisor (Debian's /usr/bin/python3): what the model starts dies with it,
// memory is limited on the whole tree, output is a bounded tail, a JSON answer is checked, and a
// start_new_session daemon neither makes a finished export look hung nor outlives it.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withDefaults } from '../../../extension/engine/settings';
import { object, str, count } from '../../../extension/process/check';
import { exportPythonModel } from '../../../language/python/export';
import { runPython, runPythonJson } from '../../../language/python/run-python';
import { alive, waitForPid } from '../../fixtures/processes';
import { oneLineError } from '../../fixtures/one-line-error';

const PY = '/usr/bin/python3';
const MIB = 2 ** 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-python-limits-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const base = { what: 'job.py: export', cwd: dir };

describe('runPython', () => {
  it('kills a subprocess the code started when the time limit ends the run', async () => {
    const pidFile = path.join(dir, 'sleep.pid');
    const code = `import subprocess, time\np = subprocess.Popen(['sleep', '300'])\nopen(${JSON.stringify(pidFile)}, 'w').write(str(p.pid))\ntime.sleep(3600)`;
    assert.equal(await oneLineError(runPython(PY, ['-c', code], { ...base, timeoutMs: 2000 })), 'job.py: export timed out after 2 s');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(pid > 0 && !alive(pid), `sleep ${pid} is gone`);
  });

  it('stops code whose resident memory goes over the limit', async () => {
    const message = await oneLineError(runPython(PY, ['-c', "b = bytearray(b'\\x01') * (2 << 30)"], { ...base, timeoutMs: 60_000, memoryLimitBytes: 256 * MIB }));
    assert.match(message, /^job\.py: export ran out of memory: RSS [\d.]+ (MiB|GiB) over the limit of 256\.0 MiB$/);
  });

  it('keeps the last 16 KiB of each stream', async () => {
    const code = "import sys\nfor i in range(50000):\n    print('out %d' % i)\n    print('err %d' % i, file=sys.stderr)";
    const run = await runPython(PY, ['-c', code], { ...base, timeoutMs: 60_000 });
    assert.equal(run.code, 0);
    assert.equal(Buffer.byteLength(run.stdout), 16 * 1024);
    assert.equal(Buffer.byteLength(run.stderrTail), 16 * 1024);
    assert.ok(run.stdout.endsWith('out 49999\n') && run.stderrTail.endsWith('err 49999\n'));
  });

  it('a crash is one line with its signal', async () => {
    assert.equal(await oneLineError(runPython(PY, ['-c', 'import os, signal; os.kill(os.getpid(), signal.SIGSEGV)'], { ...base, timeoutMs: 10_000 })),
      'job.py: export crashed with signal SIGSEGV');
  });
});

describe('runPythonJson', () => {
  const check = object({ answer: str, count });
  const script = (body: string) => {
    const file = path.join(dir, `answer-${Math.random().toString(36).slice(2)}.py`);
    fs.writeFileSync(file, `import json, os\n${body}\n`);
    return file;
  };

  it('reads a checked answer from $MEMLENS_RESULT, whatever the exit code', async () => {
    const file = script("json.dump({'answer': 'yes', 'count': 3, 'extra': [1]}, open(os.environ['MEMLENS_RESULT'], 'w'))\nraise SystemExit(3)");
    const run = await runPythonJson(PY, file, [], { ...base, timeoutMs: 10_000, check });
    assert.deepEqual(run.result, { answer: 'yes', count: 3 });
    assert.equal(run.code, 3);
  });

  it('an invalid answer, a non-JSON answer and no answer are each one line', async () => {
    const invalid = script("json.dump({'answer': 'yes', 'count': -2}, open(os.environ['MEMLENS_RESULT'], 'w'))");
    assert.equal(await oneLineError(runPythonJson(PY, invalid, [], { ...base, timeoutMs: 10_000, check })),
      'job.py: export wrote an invalid result: count is -2, expected a whole number >= 0');
    const garbage = script("open(os.environ['MEMLENS_RESULT'], 'w').write('{not json')");
    assert.equal(await oneLineError(runPythonJson(PY, garbage, [], { ...base, timeoutMs: 10_000, check })),
      'job.py: export wrote a result that is not JSON (result.json)');
    const silent = script("import sys\nprint('it went wrong', file=sys.stderr)\nraise SystemExit(1)");
    assert.equal(await oneLineError(runPythonJson(PY, silent, [], { ...base, timeoutMs: 10_000, check })),
      'job.py: export exited with code 1 without a result: it went wrong');
  });
});

const tiny = 'import torch\nimport torch.nn as nn\n\nclass Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 8)\n\n    def forward(self, x):\n        return self.fc(x)\n';

function modelFile(name: string, text: string): string {
  const sub = fs.mkdtempSync(path.join(dir, 'model-'));
  const file = path.join(sub, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('exportPythonModel limits', () => {
  const options = { trusted: true, pythonPath: PY, settings: withDefaults({}) };

  it('a start_new_session daemon started by the model does not make the export time out, and is killed', async () => {
    const pidFile = path.join(dir, 'daemon.pid');
    const file = modelFile('daemon.py', [
      'import subprocess, sys',
      "_d = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)",
      `open(${JSON.stringify(pidFile)}, 'w').write(str(_d.pid))`,
      tiny,
    ].join('\n'));
    const t0 = Date.now();
    const r = await exportPythonModel(file, { ...options, timeoutMs: 60_000, cacheDir: path.join(dir, 'cache-daemon') });
    assert.ok(r.model.graph.nodes.length > 0);
    assert.ok(Date.now() - t0 < 60_000);
    const daemon = Number(fs.readFileSync(pidFile, 'utf8'));
    await waitForPid(daemon, false, 3000);
    assert.ok(!alive(daemon), `daemon ${daemon} is gone`);
  });

  it('a model whose weights do not fit the memory limit is refused at its first layer that does not fit, before it is allocated', async () => {
    // 2 x 20000 x 20000 fp32 = 3.0 GiB of weights under a 768 MiB limit: the first Linear's 1.5 GiB
    // weight is refused when torch asks for it, so the tree never comes near the limit.
    const big = `import torch\nfrom torch import nn\nclass Big(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = nn.Linear(20000, 20000)\n        self.b = nn.Linear(20000, 20000)\n    def forward(self, x):\n        return self.b(self.a(x))\nmodel = Big()\nmodel(torch.randn(1, 20000))\n`;
    const file = modelFile('big.py', big);
    const message = await oneLineError(exportPythonModel(file, { ...options, timeoutMs: 120_000, memoryLimitBytes: 768 * MIB, cacheDir: path.join(dir, 'cache-big') }));
    assert.match(message, /^big\.py: export ran out of memory at big\.py:6: an allocation of 1\.5 GiB would pass the memory limit of 768\.0 MiB \(refused before it was made\)$/);
  });

  it('a model that allocates past the memory limit while it is built is refused at that allocation, in one line', async () => {
    const file = modelFile('hungry.py', `${tiny}\n_held = bytearray(b'\\x01') * (2 << 30)\n`);
    const message = await oneLineError(exportPythonModel(file, { ...options, timeoutMs: 120_000, memoryLimitBytes: 768 * MIB, cacheDir: path.join(dir, 'cache-hungry') }));
    // The bridge's address-space cap refuses the allocation itself, before any of its pages is touched.
    assert.match(message, /^hungry\.py: export ran out of memory at hungry\.py:\d+: an allocation (of [\d.]+ (MiB|GiB) )?would pass the memory limit of 768\.0 MiB \(refused before it was made\)$/);
  });
});
