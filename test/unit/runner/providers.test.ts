import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { autoOrder, detectProvider, planProviders, type ProviderEnvironment } from '../../../extension/runner/providers';

const BIN = '/pkg/bin/napi-v6/linux/x64';

function env(files: string[], platform: NodeJS.Platform = 'linux', backends = ['cpu', 'webgpu', 'cuda', 'tensorrt']): ProviderEnvironment {
  const set = new Set(files);
  return {
    platform,
    backends: backends.map((name) => ({ name, bundled: name === 'cpu' || name === 'webgpu' })),
    bindingDir: BIN,
    exists: (f) => set.has(f),
    libraryDirs: ['/usr/lib/x86_64-linux-gnu', '/lib64'],
  };
}

describe('providers', () => {
  it('orders GPU providers before cpu per platform', () => {
    assert.deepEqual(autoOrder('linux'), ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(autoOrder('win32'), ['cuda', 'dml', 'webgpu', 'cpu']);
    assert.deepEqual(autoOrder('darwin'), ['coreml', 'webgpu', 'cpu']);
    assert.deepEqual(autoOrder('freebsd'), ['cpu']);
  });

  it('skips cuda without its provider libraries and webgpu without a Vulkan loader', () => {
    const plan = planProviders('auto', env([]));
    assert.deepEqual(plan.tryOrder, ['cpu']);
    assert.deepEqual(plan.skipped, [
      { ep: 'cuda', status: 'skipped', reason: 'provider libraries not installed (install onnxruntime-node without ONNXRUNTIME_NODE_INSTALL=skip)' },
      { ep: 'webgpu', status: 'skipped', reason: 'no Vulkan loader (libvulkan.so.1) found' },
    ]);
  });

  it('tries cuda when its library sits next to the binding, webgpu when a loader is found', () => {
    const plan = planProviders('auto', env([`${BIN}/libonnxruntime_providers_cuda.so`, '/lib64/libvulkan.so.1']));
    assert.deepEqual(plan.tryOrder, ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(plan.skipped, []);
  });

  it('an explicit provider is tried alone: only auto falls back to cpu', () => {
    assert.deepEqual(planProviders('webgpu', env(['/lib64/libvulkan.so.1'])).tryOrder, ['webgpu']);
    assert.deepEqual(planProviders('cuda', env([])).tryOrder, []);
    assert.deepEqual(planProviders('cpu', env([])).tryOrder, ['cpu']);
  });

  it('says where DirectML and CoreML run', () => {
    assert.equal(detectProvider('dml', env([])).reason, 'DirectML runs on Windows only');
    assert.equal(detectProvider('coreml', env([])).reason, 'CoreML runs on macOS only');
    assert.equal(detectProvider('dml', env([], 'win32', ['cpu', 'dml'])).available, true);
    assert.equal(detectProvider('coreml', env([], 'darwin', ['cpu'])).reason, 'not built into this onnxruntime-node');
  });
});
