// Activation in the real extension host, through the e2e harness (test/e2e/harness): code-server
// from .e2e with the packaged VSIX installed, on a workspace holding one .onnx file (so
// `workspaceContains:**/*.onnx` activates MemLens as the window opens, with no file opened), in
// headless Chromium. The figure is the one the extension itself logs to its MemLens output
// channel, "activated in N ms" from the bundle's first line to the end of activate(); VS Code
// writes log output channels to <user-data-dir>/logs/<session>/exthost<N>/<extension id>/, read
// here. The first start is the window opening; each further one reloads the page, which starts a
// new extension host.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertE2eToolsInstalled } from '../e2e/harness/paths';
import { startSession } from '../e2e/harness/session';
import { ensureVsix } from '../e2e/harness/vsix';
import { waitUntil } from '../e2e/harness/wait';

const ACTIVATED = /activated in ([\d.]+) ms/g;
const START_TIMEOUT_MS = 120_000;

export type HostActivation =
  | { kind: 'measured'; ms: number[]; vsix: string; seconds: number }
  | { kind: 'not measured'; reason: string };

function logFiles(dir: string, name: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return logFiles(p, name);
    return e.name === name ? [p] : [];
  });
}

/** Every activation time logged so far, one extension host after another (exthost1, exthost2, ...). */
function loggedActivations(userDataDir: string, extensionId: string): number[] {
  const files = logFiles(path.join(userDataDir, 'logs'), 'MemLens.log').filter((f) => path.basename(path.dirname(f)) === extensionId);
  const host = (f: string) => Number(/exthost(\d+)/.exec(f)?.[1] ?? 0);
  return files
    .sort((a, b) => host(a) - host(b))
    .flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(ACTIVATED)].map((m) => Number(m[1])));
}

function extensionIdOf(root: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { publisher: string; name: string };
  return `${manifest.publisher}.${manifest.name}`;
}

/** `starts` activations in code-server, or why there are none: code-server or Chromium not installed. */
export async function hostActivation(root: string, starts: number): Promise<HostActivation> {
  try {
    assertE2eToolsInstalled();
  } catch (e) {
    return { kind: 'not measured', reason: (e as Error).message.replace(/^e2e harness: /, '') };
  }
  const t0 = performance.now();
  const vsix = await ensureVsix();
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-bench-activation-'));
  // Two bytes of a protobuf field: never opened, only matched by the activation event.
  fs.writeFileSync(path.join(workspace, 'model.onnx'), Buffer.from([0x08, 0x08]));
  const extensionId = extensionIdOf(root);
  try {
    const session = await startSession({ name: 'bench-activation', workspace, extensions: [vsix] });
    try {
      const ms: number[] = [];
      for (let i = 0; i < starts; i++) {
        if (i > 0) await session.workbench.page.reload();
        const logged = await waitUntil(`activation ${i + 1} of ${starts} in the MemLens log`, START_TIMEOUT_MS, () => {
          const all = loggedActivations(session.server.userDataDir, extensionId);
          return all.length > i ? all : undefined;
        }, 500);
        ms.push(logged[i]);
      }
      return { kind: 'measured', ms, vsix, seconds: (performance.now() - t0) / 1000 };
    } finally {
      await session.close();
    }
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}
