import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCli } from '../../../extension/cli/args';
import { readSettings } from '../../../extension/presentation/settings';

test('--dim takes a dim name or an input:axis for an axis without a name', () => {
  const r = parseCli(['profile', 'm.onnx', '--dim', 'input:0=1', '--dim', 'samples=16000']);
  assert.deepEqual({ ...r.settings.dims }, { 'input:0': 1, samples: 16000 });
  assert.throws(() => parseCli(['profile', 'm.onnx', '--dim', 'input:0']), /--dim: expected name=N or input:axis=N, got 'input:0'/);
});

test('the CLI records which of --batch and --seq were given, so defaults can be reported', () => {
  assert.deepEqual(parseCli(['profile', 'm.onnx']).settings.explicit, []);
  assert.deepEqual(parseCli(['profile', 'm.onnx', '--seq', '512']).settings.explicit, ['seq']);
});

test('memlens.dims is read by name and by input:axis; bad entries are problems, not values', () => {
  const s = readSettings({ dims: { 'input:0': 1, frames: 300, bad: -2, worse: 'x' } }, new Set(['dims', 'batch']));
  assert.deepEqual({ ...s.analysis.dims }, { 'input:0': 1, frames: 300 });
  assert.deepEqual(s.analysis.explicit, ['batch']);
  assert.deepEqual(s.problems, ['memlens.dims.bad: expected a whole number, got -2', 'memlens.dims.worse: expected a whole number, got "x"']);
  assert.match(readSettings({ dims: [1] }).problems[0], /^memlens\.dims: expected an object/);
});

test('memlens.branches reads then/else per If node as --branch does; bad entries are problems, not pins', () => {
  const s = readSettings({ branches: { If_32: 'else', gate: 'then', odd: 'maybe', worse: 1 } });
  assert.deepEqual({ ...s.analysis.branches }, { ...parseCli(['profile', 'm.onnx', '--branch', 'If_32=else', '--branch', 'gate=then']).settings.branches });
  assert.deepEqual({ ...s.analysis.branches }, { If_32: 'else_branch', gate: 'then_branch' });
  assert.deepEqual(s.problems, ['memlens.branches.odd: expected "then" or "else", got "maybe"', 'memlens.branches.worse: expected "then" or "else", got 1']);
  assert.equal(readSettings({ branches: {} }).analysis.branches, undefined);
  assert.match(readSettings({ branches: 'If_32=else' }).problems[0], /^memlens\.branches: expected an object/);
});

test('--input name=V gives a one-element input its value', () => {
  assert.deepEqual({ ...parseCli(['profile', 'm.onnx', '--input', 'sr=16000', '--input', 'gain=-0.5']).settings.inputValues }, { sr: 16000, gain: -0.5 });
  assert.equal(parseCli(['profile', 'm.onnx']).settings.inputValues, undefined);
  assert.throws(() => parseCli(['profile', 'm.onnx', '--input', 'sr=fast']), /--input: expected name=V with a number V, got 'sr=fast'/);
});

test('--branch NODE=then|else pins If branches by node name; bad values are one usage line', () => {
  const s = parseCli(['profile', 'm.onnx', '--branch', 'If_32=else', '--branch', '/a=b/If=then', '--branch', 'constructor=else_branch']).settings;
  assert.deepEqual({ ...s.branches }, { If_32: 'else_branch', '/a=b/If': 'then_branch', constructor: 'else_branch' });
  assert.equal(Object.getPrototypeOf(s.branches), null, 'a node named constructor is a name like any other');
  assert.equal(parseCli(['profile', 'm.onnx']).settings.branches, undefined);
  assert.deepEqual({ ...parseCli(['profile', 'm.onnx', '--branch', 'g=then', '--branch', 'g=then']).settings.branches }, { g: 'then_branch' });
  const bad: [string[], RegExp][] = [
    [['--branch', 'If_32'], /--branch: expected NODE=then or NODE=else \(an If node's name\), got 'If_32'$/],
    [['--branch', '=else'], /--branch: expected NODE=then or NODE=else \(an If node's name\), got '=else'$/],
    [['--branch', 'If_32=maybe'], /--branch If_32: expected then or else, got 'maybe'$/],
    [['--branch', 'If_32='], /--branch If_32: expected then or else, got ''$/],
    [['--branch', 'g=then', '--branch', 'g=else'], /--branch g: given both then and else; pin one$/],
    [['--branch'], /--branch/],
  ];
  for (const [flags, message] of bad) assert.throws(() => parseCli(['profile', 'm.onnx', ...flags]), message, flags.join(' '));
});

test('--device, --step and --zero-grad choose the training step; other values are usage errors', () => {
  const s = parseCli(['profile', 'm.py', '--mode', 'train', '--device', 'cpu', '--step', 'first', '--zero-grad', 'zero']).settings;
  assert.deepEqual([s.device, s.step, s.zeroGrad], ['cpu', 'first', 'zero']);
  assert.deepEqual([parseCli(['profile', 'm.py']).settings.device, parseCli(['profile', 'm.py']).settings.step], [undefined, undefined]);
  assert.throws(() => parseCli(['profile', 'm.py', '--device', 'tpu']), /--device: expected one of cuda, cpu, got 'tpu'/);
});
