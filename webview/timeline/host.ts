// The webview's side of the protocol: request ids, replies, and the state kept across reloads.
import type { HostMessage, PanelState, PersistedState, WebviewMessage } from '../protocol';
import { PROTOCOL_VERSION } from '../protocol';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: PersistedState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

type Request = WebviewMessage extends infer M ? (M extends { requestId: number } ? Omit<M, 'requestId'> : never) : never;

export class Host {
  private readonly api = acquireVsCodeApi();
  private nextId = 1;

  constructor(private readonly onMessage: (m: HostMessage) => void) {
    window.addEventListener('message', (e: MessageEvent<HostMessage>) => this.onMessage(e.data));
  }

  send(request: Request): number {
    const requestId = this.nextId++;
    this.api.postMessage({ ...request, requestId });
    return requestId;
  }

  restored(): PanelState | null {
    const s = this.api.getState() as PersistedState | undefined;
    return s && s.protocol === PROTOCOL_VERSION ? s.panel : null;
  }

  keep(panel: PanelState | null): void {
    this.api.setState({ protocol: PROTOCOL_VERSION, panel });
  }
}
