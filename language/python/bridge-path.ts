// Where the Python bridge scripts lie: next to the compiled module (tsc keeps the source tree
// beside its output), in dist/python-bridge/ in the bundle, or in the source tree.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemlensError } from '../../extension/engine/errors';

export type BridgeFile = 'export_onnx.py' | 'measure_torch.py' | 'memlens_user_code.py' | 'python_worker.py';

/** Where the bridge script lies: next to this file (tsc output keeps the source tree beside it). */
export function bridgeScript(name: BridgeFile): string {
  const candidates = [
    path.join(__dirname, 'bridge', name),
    path.join(__dirname, 'python-bridge', name),
    path.resolve(__dirname, '..', '..', '..', 'language', 'python', 'bridge', name),
  ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new MemlensError(`cannot find the bridge script ${name} (looked in ${candidates.join(', ')})`);
  return found;
}
