// A short-lived system tool (nvidia-smi) under the supervisor, for its standard output.
import { superviseChild } from './supervisor';

const TOOL_MEMORY_BYTES = 512 * 2 ** 20;
const TOOL_OUTPUT_BYTES = 1024 * 1024;

/** What the tool printed, or null when it is missing, fails, prints too much or runs past `timeoutMs`. */
export async function toolOutput(command: string, args: string[], timeoutMs: number): Promise<string | null> {
  const run = await superviseChild({
    what: command,
    program: { kind: 'exec', command, args },
    limits: { timeoutMs, memoryBytes: TOOL_MEMORY_BYTES, outputBytes: TOOL_OUTPUT_BYTES },
  });
  const ok = run.ending.kind === 'exited' && run.ending.code === 0 && run.stdout.droppedBytes === 0;
  return ok ? run.stdout.text : null;
}
