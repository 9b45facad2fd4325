// Which front end reads a file, from its name alone: the CLI, the loader and the editor's cheap
// checks all ask this one function. Declaration files (.d.ts) hold no code to trace.

export type ModelKind = 'onnx' | 'typescript' | 'python';

export function modelKind(file: string): ModelKind | null {
  const lower = file.toLowerCase();
  if (lower.endsWith('.onnx')) return 'onnx';
  if (/\.(c|m)?ts$/.test(lower) && !/\.d\.(c|m)?ts$/.test(lower)) return 'typescript';
  if (lower.endsWith('.py')) return 'python';
  return null;
}
