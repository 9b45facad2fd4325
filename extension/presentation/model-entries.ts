// Where a model file's entries are (for CodeLens): plain data from the language front ends'
// static discovery; nothing here runs the user's code.

export interface ModelEntry {
  name: string;
  /** 1-based line of the declaration. */
  line: number;
  /** Whether profiling without an explicit entry picks this one. */
  isDefault: boolean;
}
