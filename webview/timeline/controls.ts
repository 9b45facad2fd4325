// The settings controls (webview UI toolkit): mode, batch, sequence and dtype; "Profile" re-profiles.
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeDropdown, vsCodeOption, vsCodeTextField } from '@vscode/webview-ui-toolkit';
import type { PanelDtype, PanelMode, PanelSettings } from '../protocol';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDropdown(), vsCodeOption(), vsCodeTextField());

interface ValueElement extends HTMLElement {
  value: string;
}

function el<K extends string>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function dropdown(id: string, label: string, options: Array<[string, string]>, value: string): HTMLElement {
  const wrap = el('div', { class: 'control' });
  wrap.append(el('label', { for: id }, label));
  const d = el('vscode-dropdown', { id }) as ValueElement;
  for (const [v, text] of options) {
    const o = el('vscode-option', { value: v }, text);
    if (v === value) o.setAttribute('selected', '');
    d.append(o);
  }
  wrap.append(d);
  return wrap;
}

function numberField(id: string, label: string, value: number): HTMLElement {
  const f = el('vscode-text-field', { id, value: String(value), size: '6', inputmode: 'numeric' });
  f.textContent = label;
  const wrap = el('div', { class: 'control' });
  wrap.append(f);
  return wrap;
}

export function settingsControls(settings: PanelSettings, onProfile: (s: PanelSettings) => void): HTMLElement {
  const form = el('div', { class: 'controls', role: 'group', 'aria-label': 'Profile settings' });
  form.append(
    dropdown('mode', 'Mode', [['infer', 'inference'], ['train', 'training']], settings.mode),
    numberField('batch', 'Batch', settings.batch),
    numberField('seq', 'Sequence', settings.seq),
    dropdown('dtype', 'Precision', [['fp32', 'fp32'], ['fp16', 'fp16'], ['bf16', 'bf16']], settings.dtype),
  );
  const error = el('span', { class: 'control-error', role: 'alert' });
  const button = el('vscode-button', { id: 'profile', appearance: 'primary' }, 'Profile');
  button.addEventListener('click', () => {
    const value = (id: string) => form.querySelector<ValueElement>(`#${id}`)?.value ?? '';
    const batch = Number(value('batch')), seq = Number(value('seq'));
    if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(seq) || seq < 1) {
      error.textContent = 'batch and sequence must be whole numbers of at least 1';
      return;
    }
    error.textContent = '';
    onProfile({ mode: value('mode') as PanelMode, batch, seq, dtype: value('dtype') as PanelDtype });
  });
  const wrap = el('div', { class: 'control control-button' });
  wrap.append(button);
  form.append(wrap, error);
  return form;
}
