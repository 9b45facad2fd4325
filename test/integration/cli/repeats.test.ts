// "×N" in the CLI's lines is how often a line ran, checked against the published block counts:
// ResNet-50 has [3, 4, 6, 3] bottlenecks, one downsample per stage; torchvision's ResNet-18 has
// [2, 2, 2, 2] basic blocks, a downsample in stages 2-4 (He et al., 2016; torchvision resnet.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LineFigures, Profile } from '../../../extension/engine/profile';

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'bin', 'memlens.js');

function profile(...args: string[]): Profile {
  const r = spawnSync(process.execPath, [BIN, 'profile', ...args, '--json'], { encoding: 'utf8', timeout: 300_000, cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Profile;
}

/** The figures of the line of `file` (1-based) whose text contains `needle`. */
function lineWith(p: Profile, file: string, needle: string): LineFigures {
  const text = fs.readFileSync(file, 'utf8').split('\n');
  const line = text.findIndex((l) => l.includes(needle)) + 1;
  assert.ok(line > 0, `no line with ${needle} in ${file}`);
  const f = p.lines.find((l) => l.file !== null && path.resolve(l.file) === path.resolve(file) && l.line === line);
  assert.ok(f, `no figures on ${file}:${line}`);
  return f;
}

test('ResNet-50 (samples/resnet.ts): the bottleneck lines ran 16 times, the downsample 4 times', () => {
  const file = path.join(ROOT, 'samples', 'resnet.ts');
  const p = profile('samples/resnet.ts');
  for (const needle of ['this.conv1.forward(x)', 'this.conv2.forward(y)', 'this.conv3.forward(y)', 'y.add(identity)']) {
    assert.equal(lineWith(p, file, needle).repeats, 3 + 4 + 6 + 3, needle);
  }
  assert.equal(lineWith(p, file, 'this.downsample.forward(x)').repeats, 4);
  assert.equal(lineWith(p, file, 'this.fc.forward(').repeats, 1);
});

test('ResNet-18 (samples/python/resnet_script.py): each basic-block line ran 8 times, the downsample 3', () => {
  const p = profile('samples/python/resnet_script.py');
  const conv2 = p.lines.find((l) => l.file?.endsWith(path.join('torchvision', 'models', 'resnet.py')) && l.scope.startsWith('layer1.*.conv2'));
  assert.ok(conv2?.file, 'no line for the basic block\'s conv2');
  const file = conv2.file;
  assert.equal(lineWith(p, file, 'out = self.conv2(out)').repeats, 2 + 2 + 2 + 2);
  assert.equal(lineWith(p, file, 'out += identity').repeats, 8);
  assert.equal(lineWith(p, file, 'identity = self.downsample(x)').repeats, 3);
  assert.equal(lineWith(p, file, 'x = self.fc(x)').repeats, 1);
});
