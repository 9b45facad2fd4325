// The one module every user-visible write goes through (the CLI's `fit --out/--write`, the editor's
// rewritten copies). It never replaces an input or an existing file unless asked, never leaves half
// a file, and an in-place edit keeps the file itself: its mode, owner, symlink and hard links (the
// bytes are written through the same inode) and every byte outside the edited span.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MemlensError } from '../engine/errors';

export function textHash(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String((e as Error).message).slice(0, 80);

export interface NewFileOptions {
  /** Files the data was made from: the destination may never be one of them (checked by inode too). */
  inputs: string[];
  /** Replace `dest` when it exists (it is then written in place, keeping mode, owner and links). */
  replace: boolean;
}

async function sameFile(a: string, b: string): Promise<boolean> {
  if (path.resolve(a) === path.resolve(b)) return true;
  const [sa, sb] = await Promise.all([fs.stat(a).catch(() => null), fs.stat(b).catch(() => null)]);
  return sa !== null && sb !== null && sa.dev === sb.dev && sa.ino === sb.ino;
}

/** Refuses `dest` when it is an input, or exists and `replace` is off; callers ask before any work. */
export async function checkNewFile(dest: string, o: NewFileOptions): Promise<void> {
  for (const input of o.inputs) {
    if (await sameFile(dest, input)) throw new MemlensError(`${dest}: is the model being read; an input is never overwritten (choose another --out)`);
  }
  if (!o.replace && (await fs.lstat(dest).catch(() => null)) !== null) {
    throw new MemlensError(`${dest}: already exists; not replaced (pass --force to replace it)`);
  }
}

/**
 * Writes a new file: a temp file beside it, then a hard link to the name, which fails if the name
 * appeared meanwhile (no race replaces a file). With `replace`, an existing file is rewritten in place.
 */
export async function writeNewFile(dest: string, data: string | Uint8Array, o: NewFileOptions): Promise<void> {
  await checkNewFile(dest, o);
  const existing = await fs.readFile(dest).catch(() => null);
  if (existing !== null) return writeInPlace(dest, existing, data);
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.writeFile(tmp, data, { flag: 'wx' });
    await fs.link(tmp, dest).catch(async (e: unknown) => {
      if (code(e) === 'EEXIST') throw new MemlensError(`${dest}: appeared while it was written; not replaced`);
      await fs.rename(tmp, dest); // file systems without hard links; `dest` was absent just above
    });
  } catch (e) {
    if (e instanceof MemlensError) throw e;
    const why = code(e) === 'ENOENT' ? 'its folder does not exist' : code(e);
    throw new MemlensError(`${dest}: cannot write (${why})`);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** Test seam: runs between the last-moment check and the write, so a race can be injected for real. */
export interface InPlaceHooks { afterCheck?: () => Promise<void> | void }

/**
 * Replaces the content of `file` (through a symlink, on the same inode, so mode, owner and hard
 * links stay) with `next`, only if it still holds exactly `original`. The original bytes are kept in
 * a backup beside the target until the new ones are on disk; a failure restores them.
 */
export async function writeInPlace(file: string, original: Uint8Array, next: string | Uint8Array, hooks: InPlaceHooks = {}): Promise<void> {
  const target = await fs.realpath(file).catch(() => null);
  if (target === null) throw new MemlensError(`${file}: no longer exists; not written`);
  const st = await fs.stat(target);
  // Root may open a read-only file for writing; the mode is the user's word, so it is honoured.
  if ((st.mode & 0o222) === 0) throw new MemlensError(`${file}: is read-only; not written`);
  const data = typeof next === 'string' ? Buffer.from(next, 'utf8') : Buffer.from(next);
  const handle = await fs.open(target, 'r+').catch((e: unknown) => {
    throw new MemlensError(`${file}: cannot be written (${code(e)}); not changed`);
  });
  const backup = path.join(path.dirname(target), `.${path.basename(target)}.memlens-backup`);
  let keepBackup = false;
  try {
    if (textHash(await handle.readFile()) !== textHash(original)) throw new MemlensError(`${file}: changed on disk since it was read; not written (run fit again)`);
    await fs.writeFile(backup, original, { mode: 0o600 });
    await hooks.afterCheck?.();
    if (!(await holds(handle, original))) throw new MemlensError(`${file}: changed on disk while it was being written; not written (run fit again)`);
    keepBackup = true;
    await writeAll(handle, data, original, file);
    keepBackup = false;
    const now = await fs.stat(target).catch(() => null);
    if (now === null || now.ino !== st.ino) throw new MemlensError(`${file}: was replaced while it was written; the new file is kept and the edit is not in it (run fit again)`);
  } finally {
    await handle.close();
    if (!keepBackup) await fs.rm(backup, { force: true });
  }
}

/** Whether the open file holds exactly `bytes` now. */
async function holds(handle: fs.FileHandle, bytes: Uint8Array): Promise<boolean> {
  const now = Buffer.alloc(bytes.length + 1);
  const { bytesRead } = await handle.read(now, 0, now.length, 0);
  return bytesRead === bytes.length && Buffer.compare(now.subarray(0, bytesRead), Buffer.from(bytes)) === 0;
}

/** Writes and truncates; on failure puts the original back, and keeps the backup if even that fails. */
async function writeAll(handle: fs.FileHandle, data: Buffer, original: Uint8Array, file: string): Promise<void> {
  try {
    await handle.write(data, 0, data.length, 0);
    await handle.truncate(data.length);
    await handle.sync();
  } catch (e) {
    await handle.write(original, 0, original.length, 0);
    await handle.truncate(original.length);
    throw new MemlensError(`${file}: cannot write (${code(e)}); the original is kept`);
  }
}

/** Bytes as text that encodes back to exactly the same bytes: UTF-8 when valid, else latin-1. */
export interface SourceText { text: string; encoding: 'utf8' | 'latin1' }

export function decodeSource(bytes: Uint8Array): SourceText {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: Buffer.from(bytes).toString('latin1'), encoding: 'latin1' };
  }
}

export function encodeSource(s: SourceText, where: string): Buffer {
  // eslint-disable-next-line no-control-regex
  if (s.encoding === 'latin1' && /[^\u0000-\u00ff]/.test(s.text)) {
    throw new MemlensError(`${where}: the file is not UTF-8 and the edit needs characters latin-1 cannot hold; not written`);
  }
  return Buffer.from(s.text, s.encoding);
}

/**
 * `next` with the line endings of its changed span matched to `original`'s (CRLF files get CRLF
 * in the inserted lines); everything outside the span is byte-for-byte `original`.
 */
export function matchLineEndings(original: string, next: string): string {
  const crlf = (original.match(/\r\n/g) ?? []).length;
  const lf = (original.match(/\n/g) ?? []).length - crlf;
  if (crlf === 0 || crlf < lf) return next;
  let pre = 0;
  const max = Math.min(original.length, next.length);
  while (pre < max && original[pre] === next[pre]) pre++;
  let suf = 0;
  while (suf < max - pre && original[original.length - 1 - suf] === next[next.length - 1 - suf]) suf++;
  const mid = next.slice(pre, next.length - suf);
  const fixed = mid.replace(/\r?\n/g, '\r\n');
  // A span that starts right after a '\r' of the prefix already has its CR.
  const head = pre > 0 && next[pre - 1] === '\r' && fixed.startsWith('\r\n') ? fixed.slice(1) : fixed;
  return next.slice(0, pre) + head + next.slice(next.length - suf);
}
