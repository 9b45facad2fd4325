// Which object builds the model, and with which example inputs, from a file's discovery.
// Order: the caller's choice, `# memlens: entry`, the `__main__` example, a builder function,
// then the outermost nn.Module class that needs no constructor arguments.
import { MemlensError } from '../../extension/engine/errors';
import type { Directive, InputSpec } from './directives';
import type { PythonDiscovery } from './discovery';
import { isBuilderName } from './discovery';

export type EntryRequest =
  | { kind: 'name'; name: string }
  | { kind: 'expression'; expression: string; prelude: string };

export interface EntryChoice {
  request: EntryRequest;
  /** What users see: a name or the main block's expression. */
  label: string;
  /** null: let the bridge infer them from the model's first layer. */
  inputs: InputSpec[] | null;
  source: 'option' | 'directive' | 'main' | 'function' | 'class';
}

function inputsOf(directives: Directive[]): InputSpec[] {
  return directives.flatMap((d) => (d.kind === 'input' ? [d.input] : []));
}

export function chooseEntry(d: PythonDiscovery, fileLabel: string, requested?: string): EntryChoice {
  const all = [...d.fileDirectives, ...d.classes.flatMap((c) => c.directives), ...d.functions.flatMap((f) => f.directives)];
  const invalid = all.find((x) => x.kind === 'invalid');
  if (invalid && invalid.kind === 'invalid') throw new MemlensError(`${fileLabel}:${invalid.message}`);

  const attachedTo = (name: string): Directive[] =>
    d.classes.find((c) => c.name === name)?.directives ?? d.functions.find((f) => f.name === name)?.directives ?? [];
  const mainInputsFor = (name: string): InputSpec[] | null =>
    d.main?.model && d.main.inputs.length && d.main.model.expression.startsWith(`${name}(`) ? d.main.inputs : null;
  const byName = (name: string, source: EntryChoice['source']): EntryChoice => {
    const own = inputsOf(attachedTo(name));
    const file = inputsOf(d.fileDirectives);
    const inputs = own.length ? own : file.length ? file : mainInputsFor(name);
    return { request: { kind: 'name', name }, label: name, inputs, source };
  };

  if (requested) return byName(requested, 'option');
  const directive = all.find((x) => x.kind === 'entry');
  if (directive && directive.kind === 'entry') return byName(directive.name, 'directive');

  const main = d.main;
  if (main?.model) {
    const simple = /^([A-Za-z_][\w.]*)\(\s*\)$/.exec(main.model.expression);
    const fileInputs = inputsOf(d.fileDirectives);
    const inputs = fileInputs.length ? fileInputs : main.inputs.length ? main.inputs : null;
    if (simple && !main.prelude) return { ...byName(simple[1], 'main'), inputs: inputsOf(attachedTo(simple[1])).length ? inputsOf(attachedTo(simple[1])) : inputs };
    return { request: { kind: 'expression', expression: main.model.expression, prelude: main.prelude }, label: main.model.expression, inputs, source: 'main' };
  }

  const classNames = new Set(d.classes.map((c) => c.name));
  const builder = d.functions.find((f) => f.requiredArgs.length === 0 && (isBuilderName(f.name) || (f.returns !== null && classNames.has(f.returns))));
  if (builder) return byName(builder.name, 'function');

  const used = new Set(d.classes.flatMap((c) => c.submodules.flatMap((s) => [s.constructor, ...s.elements.map((e) => e.constructor)])));
  const top = [...d.classes].reverse().find((c) => c.requiredArgs.length === 0 && !used.has(c.name));
  if (top) return byName(top.name, 'class');
  throw new MemlensError(`${fileLabel}: no model to build found; add '# memlens: entry NAME' naming a class or function that builds it without arguments`);
}
