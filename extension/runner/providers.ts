// Which execution providers can run here, and in what order `auto` tries them. Detection only
// looks at files and the platform; whether a provider really works is learned by trying it.
import * as fs from 'fs';
import * as path from 'path';
import type { ProviderAttempt, ProviderChoice, ProviderName } from './types';

export interface ProviderAvailability {
  ep: ProviderName;
  available: boolean;
  /** Why it cannot run; empty when available. */
  reason: string;
}

/** What detection needs to know about the machine; injectable so the rules are testable. */
export interface ProviderEnvironment {
  platform: NodeJS.Platform;
  /** `name` and `bundled` of ort.listSupportedBackends(). */
  backends: { name: string; bundled: boolean }[];
  /** Directory of onnxruntime_binding.node. */
  bindingDir: string | null;
  exists: (file: string) => boolean;
  /** Directories searched for the Vulkan loader. */
  libraryDirs: string[];
}

const GPU_ORDER: Record<string, ProviderName[]> = {
  linux: ['cuda', 'webgpu'],
  win32: ['cuda', 'dml', 'webgpu'],
  darwin: ['coreml', 'webgpu'],
};

const CUDA_LIB: Record<string, string> = {
  linux: 'libonnxruntime_providers_cuda.so',
  win32: 'onnxruntime_providers_cuda.dll',
};

const VULKAN_LOADER: Record<string, string> = { linux: 'libvulkan.so.1', win32: 'vulkan-1.dll' };

/** Providers `auto` tries, best first; CPU is always last. */
export function autoOrder(platform: NodeJS.Platform): ProviderName[] {
  return [...(GPU_ORDER[platform] ?? []), 'cpu'];
}

export function detectProvider(ep: ProviderName, env: ProviderEnvironment): ProviderAvailability {
  const ok = { ep, available: true, reason: '' };
  const no = (reason: string) => ({ ep, available: false, reason });
  const listed = env.backends.some((b) => b.name === ep);
  switch (ep) {
    case 'cpu':
      return ok;
    case 'cuda': {
      const lib = CUDA_LIB[env.platform];
      if (!lib) return no(`not supported on ${env.platform}`);
      if (!listed) return no('not built into this onnxruntime-node');
      if (!env.bindingDir || !env.exists(path.join(env.bindingDir, lib))) {
        return no('provider libraries not installed (install onnxruntime-node without ONNXRUNTIME_NODE_INSTALL=skip)');
      }
      return ok;
    }
    case 'webgpu': {
      if (!listed) return no('not built into this onnxruntime-node');
      const loader = VULKAN_LOADER[env.platform];
      if (loader && !env.libraryDirs.some((d) => env.exists(path.join(d, loader)))) {
        return no(`no Vulkan loader (${loader}) found`);
      }
      return ok;
    }
    case 'dml':
      if (env.platform !== 'win32') return no('DirectML runs on Windows only');
      return listed ? ok : no('not built into this onnxruntime-node');
    case 'coreml':
      if (env.platform !== 'darwin') return no('CoreML runs on macOS only');
      return listed ? ok : no('not built into this onnxruntime-node');
  }
}

/**
 * The providers to try for a choice, in order, with the ones that cannot run already marked
 * skipped. Only `auto` falls back to CPU: an explicit provider that cannot run is an error, so a
 * figure is never reported for a device the user did not ask for.
 */
export function planProviders(choice: ProviderChoice, env: ProviderEnvironment): {
  tryOrder: ProviderName[];
  skipped: ProviderAttempt[];
} {
  const candidates: ProviderName[] = choice === 'auto' ? autoOrder(env.platform) : [choice];
  const tryOrder: ProviderName[] = [];
  const skipped: ProviderAttempt[] = [];
  for (const ep of candidates) {
    const a = detectProvider(ep, env);
    if (a.available) tryOrder.push(ep);
    else skipped.push({ ep, status: 'skipped', reason: a.reason });
  }
  return { tryOrder, skipped };
}

/** The real machine, as seen from a process that has loaded onnxruntime-node. */
export function currentEnvironment(backends: { name: string; bundled: boolean }[]): ProviderEnvironment {
  let bindingDir: string | null = null;
  try {
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const arch = process.arch;
    const dir = path.join(pkg, 'bin', 'napi-v6', process.platform, arch);
    if (fs.existsSync(dir)) bindingDir = dir;
  } catch {
    bindingDir = null;
  }
  return {
    platform: process.platform,
    backends,
    bindingDir,
    exists: (f) => fs.existsSync(f),
    libraryDirs: libraryDirs(process.platform),
  };
}

function libraryDirs(platform: NodeJS.Platform): string[] {
  if (platform === 'win32') return [path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32')];
  const fromEnv = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const multiarch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  return [...fromEnv, `/usr/lib/${multiarch}`, `/lib/${multiarch}`, '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib'];
}

