// A model whose data picks the smaller If branch, run for real: the estimate is sized by the larger
// branch (the condition is a graph input), the run's kernel events show the other one ran, and
// the comparison gives the estimate re-analysed with that branch pinned beside the static bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import type { OrtMeasured, Profile } from '../../../extension/engine/profile';
import { inputGatedModel } from '../../fixtures/subgraphs';

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'bin', 'memlens.js');

function profile(file: string, ...flags: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'profile', file, '--run', '--ep', 'cpu', '--runs', '2', ...flags], { encoding: 'utf8', timeout: 300_000, cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

test('a run that took the smaller branch reports it, with the estimate re-analysed with it pinned', { timeout: 600_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-branch-'));
  const file = path.join(dir, 'gated.onnx');
  fs.writeFileSync(file, encodeModel(inputGatedModel()));
  const p = JSON.parse(profile(file, '--json').stdout) as Profile & { measured: OrtMeasured };
  assert.deepEqual(p.branches, [{ node: 'gate', taken: 'then_branch', why: 'larger' }]);
  assert.ok(p.warnings.some((w) => w.includes('--branch gate=else (memlens.branches in the editor) sizes else_branch')), p.warnings.join('\n'));
  assert.deepEqual(p.measured.branches, [{ node: 'gate', ran: 'else_branch', seen: ['e_exp', 'e_neg'] }]);
  const c = p.measured.comparison!;
  const pinned = c.pinned!;
  assert.deepEqual(pinned.branches, [{ node: 'gate', sized: 'then_branch', ran: 'else_branch' }]);
  // The simulation with the branch that ran is ORT's arena peak; the static one holds the larger branch's two more 256 KiB tensors.
  assert.equal(pinned.measuredPeakBytes, c.measuredPeakBytes);
  assert.equal(pinned.estimatedPeakBytes, c.measuredPeakBytes);
  assert.ok(p.ortHeld!.arenaInUsePeakBytes > pinned.estimatedPeakBytes, `${p.ortHeld!.arenaInUsePeakBytes} vs ${pinned.estimatedPeakBytes}`);
  assert.ok(c.summary.includes("If 'gate': the run took else_branch, the estimate is sized by then_branch (the larger; its condition is not known statically)"), c.summary.join('\n'));
  assert.ok(c.summary.some((l) => /^ {2}with the branch the run took pinned \(--branch gate=else\): estimated .*, estimate equal to measured;/.test(l)), c.summary.join('\n'));
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'memlens.profile-1.schema.json'), 'utf8')) as object;
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
  assert.ok(validate(p), JSON.stringify(validate.errors?.slice(0, 3)));

  // Pinned by hand, the estimate follows the branch that runs, and the run agrees with it.
  const text = profile(file, '--branch', 'gate=else').stdout;
  assert.match(text, /peak on cpu/);
  assert.doesNotMatch(text, /the run took/);
  fs.rmSync(dir, { recursive: true, force: true });
});
