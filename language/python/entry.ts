// Which object builds the model, and with which example inputs, from a file's discovery.
// Order: the caller's choice, `# memlens: entry`; otherwise the file runs as a script and its
// first model call is captured with its real inputs (bridge/memlens_user_code.py), with the
// static choice as the fallback when the script calls no model: the `__main__` example, a
// builder function, then the outermost nn.Module class that needs no constructor arguments.
// Declared inputs (`# memlens: input`) mean the static choice is built with them, no script run.
import { MemlensError } from '../../extension/engine/errors';
import type { Directive, InputSpec } from './directives';
import type { PythonDiscovery } from './discovery';
import { isBuilderName } from './discovery';

export type EntryRequest =
  | { kind: 'name'; name: string }
  | { kind: 'expression'; expression: string; prelude: string }
  /** Run the file as `__main__` and capture its first call of a module that has parameters. */
  | { kind: 'script' };

export interface StaticChoice {
  request: Exclude<EntryRequest, { kind: 'script' }>;
  /** What users see: a name or the main block's expression. */
  label: string;
  /** null: let the bridge infer them from the model's first layer. */
  inputs: InputSpec[] | null;
  source: 'option' | 'directive' | 'main' | 'function' | 'class';
}

export type EntryChoice =
  | StaticChoice
  | {
    request: { kind: 'script' };
    /** null: the bridge names the module it captured. */
    label: string | null;
    /** The fallback's inputs, used only when the fallback is built. */
    inputs: InputSpec[] | null;
    source: 'script';
    /** What discovery would build when the script calls no model; null when it finds nothing. */
    fallback: StaticChoice | null;
  };

function inputsOf(directives: Directive[]): InputSpec[] {
  return directives.flatMap((d) => (d.kind === 'input' ? [d.input] : []));
}

export function chooseEntry(d: PythonDiscovery, fileLabel: string, requested?: string): EntryChoice {
  const all = [...d.fileDirectives, ...d.classes.flatMap((c) => c.directives), ...d.functions.flatMap((f) => f.directives)];
  const invalid = all.find((x) => x.kind === 'invalid');
  if (invalid && invalid.kind === 'invalid') throw new MemlensError(`${fileLabel}:${invalid.message}`);

  if (requested) return byName(d, requested, 'option');
  const directive = all.find((x) => x.kind === 'entry');
  if (directive && directive.kind === 'entry') return byName(d, directive.name, 'directive');

  const fallback = staticChoice(d);
  if (fallback && inputsOf(d.fileDirectives).length) return fallback;
  return { request: { kind: 'script' }, label: fallback?.source === 'main' ? fallback.label : null, inputs: fallback?.inputs ?? null, source: 'script', fallback };
}

/** The entry discovery finds without running anything; null when there is none. */
export function staticChoice(d: PythonDiscovery): StaticChoice | null {
  const main = d.main;
  if (main?.model) {
    const simple = /^([A-Za-z_][\w.]*)\(\s*\)$/.exec(main.model.expression);
    const fileInputs = inputsOf(d.fileDirectives);
    const inputs = fileInputs.length ? fileInputs : main.inputs.length ? main.inputs : null;
    if (simple && !main.prelude) {
      const own = inputsOf(attachedTo(d, simple[1]));
      return { ...byName(d, simple[1], 'main'), inputs: own.length ? own : inputs };
    }
    return { request: { kind: 'expression', expression: main.model.expression, prelude: main.prelude }, label: main.model.expression, inputs, source: 'main' };
  }

  const classNames = new Set(d.classes.map((c) => c.name));
  const builder = d.functions.find((f) => f.requiredArgs.length === 0 && (isBuilderName(f.name) || (f.returns !== null && classNames.has(f.returns))));
  if (builder) return byName(d, builder.name, 'function');

  const used = new Set(d.classes.flatMap((c) => c.submodules.flatMap((s) => [s.constructor, ...s.elements.map((e) => e.constructor)])));
  const top = [...d.classes].reverse().find((c) => c.requiredArgs.length === 0 && !used.has(c.name));
  return top ? byName(d, top.name, 'class') : null;
}

function attachedTo(d: PythonDiscovery, name: string): Directive[] {
  return d.classes.find((c) => c.name === name)?.directives ?? d.functions.find((f) => f.name === name)?.directives ?? [];
}

function byName(d: PythonDiscovery, name: string, source: StaticChoice['source']): StaticChoice {
  const own = inputsOf(attachedTo(d, name));
  const file = inputsOf(d.fileDirectives);
  const main = d.main?.model && d.main.inputs.length && d.main.model.expression.startsWith(`${name}(`) ? d.main.inputs : null;
  return { request: { kind: 'name', name }, label: name, inputs: own.length ? own : file.length ? file : main, source };
}
