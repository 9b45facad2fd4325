// The webview's side of the protocol: each request gets an id and resolves with the response of
// the same id; notifications go to one handler; the state is kept across reloads.
import type {
  HostMessage, NotificationMessage, PanelState, PersistedState, RequestMessage, RequestMethod, RequestParams, ResponseOf,
} from '../protocol';
import { PROTOCOL_VERSION } from '../protocol';

interface VsCodeApi {
  postMessage(message: RequestMessage): void;
  getState(): unknown;
  setState(state: PersistedState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export class Host {
  private readonly api = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();

  constructor(private readonly onNotification: (m: NotificationMessage) => void) {
    window.addEventListener('message', (e: MessageEvent<HostMessage>) => this.receive(e.data));
  }

  private receive(m: HostMessage): void {
    if (typeof m !== 'object' || m === null) return;
    if (m.kind === 'response') {
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      resolve?.(m.result);
    } else if (m.kind === 'notification') {
      this.onNotification(m);
    }
  }

  request<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<ResponseOf<M>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (r: unknown) => void);
      this.api.postMessage({ kind: 'request', id, method, params } as RequestMessage);
    });
  }

  restored(): PanelState | null {
    const s = this.api.getState() as PersistedState | undefined;
    return s && s.protocol === PROTOCOL_VERSION ? s.panel : null;
  }

  keep(panel: PanelState | null): void {
    this.api.setState({ protocol: PROTOCOL_VERSION, panel });
  }
}
