// Activation of the extension's own code:
//   - which modules the bundle (dist/extension.js, built by `npm run bundle`) requires: none of
//     onnxruntime-node, ts-morph, TypeScript or tree-sitter may be among them or bundled into it
//     (they load with dist/engine.js, on the first profile);
//   - reading and compiling that bundle as Node's CommonJS loader does, each sample in a fresh
//     Node process (V8 caches compilations within one), printed beside the goal;
//   - the goal: evaluating the bundle and calling activate(), in the real extension host of
//     code-server with the packaged VSIX, as the extension itself logs it (activation-host.ts);
//     not measured, with the reason, where code-server or Chromium is not installed.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostActivation, type HostActivation } from './activation-host';
import { fmtSpread, spread, verdict, type Goal } from './paired';

const HEAVY = ['onnxruntime-node', 'onnxruntime-common', 'ts-morph', 'typescript', 'web-tree-sitter', 'tree-sitter-python', 'protobufjs'];
const SAMPLES = 9;
/** Extension host starts in code-server: the window opening, then page reloads. */
const HOST_STARTS = 7;
const GOAL_MS = 50;

const COMPILE = `
const fs = require('fs'); const vm = require('vm');
const t0 = process.hrtime.bigint();
const src = fs.readFileSync(process.argv[1], 'utf8');
vm.compileFunction(src, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: process.argv[1] });
process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));
`;

export async function activationGoals(root: string): Promise<Goal[]> {
  const goals = [...bundleGoals(root), await hostGoal(root)];
  console.log(`  -> ${goals.map((g) => `${verdict(g)}: ${g.name}`).join('; ')}`);
  return goals;
}

function bundleGoals(root: string): Goal[] {
  const bundle = path.join(root, 'dist', 'extension.js');
  if (!fs.existsSync(bundle)) {
    console.log('  no dist/extension.js (run npm run bundle)');
    return [{ name: 'heavy modules absent from the activation bundle', figure: 'no dist/extension.js', limit: `none of ${HEAVY.join(', ')}`, met: false, measured: false }];
  }
  const src = fs.readFileSync(bundle, 'utf8');
  const required = [...new Set([...src.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))].sort();
  // esbuild marks each bundled input with a `// node_modules/<pkg>/...` comment (unminified builds).
  const bundledPackages = [...new Set([...src.matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)/gm)].map((m) => m[1]))].sort();
  const heavy = HEAVY.filter((h) => required.includes(h) || bundledPackages.includes(h));
  console.log(`  ${(src.length / 1024).toFixed(0)} KiB; requires: ${required.join(', ')}; packages bundled in: ${bundledPackages.join(', ') || 'none'}`);
  const lazy: Goal = {
    name: 'heavy modules absent from the activation bundle',
    figure: heavy.length === 0 ? 'none present' : `present: ${heavy.join(', ')}`,
    limit: `none of ${HEAVY.join(', ')}`,
    met: heavy.length === 0,
    measured: true,
  };
  const times = Array.from({ length: SAMPLES }, () => Number(execFileSync(process.execPath, ['-e', COMPILE, bundle], { encoding: 'utf8' })));
  const compile = spread(times);
  console.log(`  read + compile in a fresh process: ${fmtSpread(compile, 2, ' ms')} over ${SAMPLES} processes (before the logged figure's clock starts)`);
  return [lazy];
}

async function hostGoal(root: string): Promise<Goal> {
  const name = 'activation (own code): evaluation + activate() in the extension host';
  const limit = `< ${GOAL_MS} ms`;
  let host: HostActivation;
  try {
    host = await hostActivation(root, HOST_STARTS);
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    console.log(`  extension host: failed: ${why}`);
    return { name, figure: `failed: ${why}`, limit, met: false, measured: true };
  }
  if (host.kind === 'not measured') {
    console.log(`  extension host: not measured: ${host.reason}`);
    return { name, figure: host.reason, limit, met: false, measured: false };
  }
  const s = spread(host.ms);
  console.log(`  code-server, ${path.relative(root, host.vsix)} installed: "activated in N ms" over ${host.ms.length} starts (window open, then reloads): ${host.ms.map((m) => m.toFixed(1)).join(', ')} ms`);
  console.log(`  evaluation + activate() ${fmtSpread(s, 1, ' ms')}; ${host.seconds.toFixed(0)} s in all`);
  return { name, figure: `${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}, ${host.ms.length} starts)`, limit, met: s.median < GOAL_MS, measured: true };
}
