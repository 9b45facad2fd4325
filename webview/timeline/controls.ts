// The settings controls: plain HTML form controls themed with VS Code's CSS variables, one per
// `memlens.*` setting as the host describes it (the Settings UI's title, values and range).
// "Apply and profile" writes them; the optimizer shows only while the mode is training.
import type { PanelSettings, SettingControl, SettingField } from '../protocol';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function input(c: SettingControl): HTMLSelectElement | HTMLInputElement {
  const id = `setting-${c.field}`;
  if (c.input.kind === 'enum') {
    const select = el('select', { id, name: c.key });
    for (const o of c.input.options) {
      const option = el('option', { value: o.value }, o.value);
      if (o.description) option.title = o.description;
      if (o.value === String(c.value)) option.selected = true;
      select.append(option);
    }
    return select;
  }
  return el('input', {
    id, name: c.key, type: 'number', inputmode: 'numeric', step: '1',
    min: String(c.input.min), max: String(c.input.max), value: String(c.value),
  });
}

function control(c: SettingControl): HTMLElement {
  const wrap = el('div', { class: 'control', 'data-field': c.field });
  const label = el('label', { for: `setting-${c.field}` }, c.title);
  wrap.title = `${c.key}: ${c.description}`;
  wrap.append(label, input(c));
  return wrap;
}

/** The value of each control, checked as the host will check it; a message for the first bad one. */
function read(form: HTMLElement, controls: readonly SettingControl[]): PanelSettings | string {
  const out: Partial<Record<SettingField, string | number>> = {};
  for (const c of controls) {
    const field = form.querySelector<HTMLInputElement | HTMLSelectElement>(`#setting-${c.field}`);
    const raw = field ? field.value : String(c.value);
    if (c.input.kind === 'integer') {
      const n = Number(raw);
      if (!/^\s*\d+\s*$/.test(raw) || n < c.input.min || n > c.input.max) return `${c.title} must be a whole number from ${c.input.min} to ${c.input.max}`;
      out[c.field] = n;
    } else {
      out[c.field] = raw;
    }
  }
  return out as unknown as PanelSettings;
}

export interface ControlActions {
  apply(settings: PanelSettings): void;
  measure(): void;
}

export function settingsControls(controls: readonly SettingControl[], canMeasure: boolean, actions: ControlActions): HTMLElement {
  const form = el('div', { class: 'controls', role: 'group', 'aria-label': 'Profile settings (memlens.* settings)' });
  for (const c of controls) if (c.hiddenBecause === null) form.append(control(c));
  const optimizer = form.querySelector<HTMLElement>('[data-field="optimizer"]');
  const mode = form.querySelector<HTMLSelectElement>('#setting-mode');
  const syncOptimizer = () => optimizer?.toggleAttribute('hidden', mode?.value !== 'train');
  mode?.addEventListener('change', syncOptimizer);
  syncOptimizer();

  const error = el('span', { class: 'control-error', role: 'alert' });
  const apply = el('button', { id: 'apply-settings', class: 'primary', type: 'button' }, 'Apply and profile');
  apply.addEventListener('click', () => {
    const settings = read(form, controls);
    if (typeof settings === 'string') {
      error.textContent = settings;
      return;
    }
    error.textContent = '';
    actions.apply(settings);
  });
  const measure = el('button', { id: 'measure', class: 'secondary', type: 'button' }, 'Measure on ONNX Runtime');
  measure.title = canMeasure ? 'Run the model on ONNX Runtime and draw the measured figures beside the estimate' : 'Trust the workspace to run this model';
  measure.disabled = !canMeasure;
  measure.addEventListener('click', () => actions.measure());
  const buttons = el('div', { class: 'control control-buttons' });
  buttons.append(apply, measure);
  form.append(buttons, error);
  const notes = controls.filter((c) => c.hiddenBecause !== null).map((c) => `${c.title}: not shown, ${c.hiddenBecause}`);
  if (notes.length) form.append(el('p', { class: 'note controls-note' }, notes.join(' · ')));
  return form;
}
