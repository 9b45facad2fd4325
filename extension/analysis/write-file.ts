// Writing model files the user asked for without ever leaving half a file or overwriting text that
// changed since it was read. The CLI's `fit --out/--write` and the editor's rewritten copies share it.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MemlensError } from '../engine/errors';

export function textHash(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Temp file in the same folder, then rename: readers never see half a file. */
export async function writeAtomic(dest: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, dest);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw new MemlensError(`${dest}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** In-place write that refuses when the file on disk is no longer `original` (never loses user text). */
export async function writeIfUnchanged(file: string, original: Uint8Array, next: string): Promise<void> {
  const now = await fs.readFile(file).catch(() => null);
  if (!now || textHash(now) !== textHash(original)) throw new MemlensError(`${file}: changed on disk since it was read; not written (run fit again)`);
  await writeAtomic(file, next);
}
