// A tsserver process spoken to over stdio the way editors do: one JSON request per line, answers
// framed with Content-Length headers. Every request has a deadline.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface TsServerOptions {
  /** Path to a TypeScript package's lib/tsserver.js. */
  readonly tsserver: string;
  /** `--globalPlugins` and `--pluginProbeLocations`, as VS Code passes them for contributed plugins. */
  readonly globalPlugins?: readonly string[];
  readonly pluginProbeLocations?: readonly string[];
  readonly logFile?: string;
}

interface TsResponse {
  readonly type: 'response';
  readonly request_seq: number;
  readonly success: boolean;
  readonly message?: string;
  readonly body?: unknown;
}

export class TsServer {
  private seq = 0;
  private buffer = Buffer.alloc(0);
  private stderr = '';
  private readonly pending = new Map<number, { resolve: (r: TsResponse) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000)));
    child.once('exit', (code) => {
      for (const { reject } of this.pending.values()) reject(new Error(`tsserver exited (code ${code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  static start(options: TsServerOptions): TsServer {
    const args = [options.tsserver, '--disableAutomaticTypingAcquisition'];
    if (options.globalPlugins !== undefined) args.push('--globalPlugins', options.globalPlugins.join(','));
    if (options.pluginProbeLocations !== undefined) args.push('--pluginProbeLocations', options.pluginProbeLocations.join(','));
    if (options.logFile !== undefined) args.push('--logVerbosity', 'normal', '--logFile', options.logFile);
    return new TsServer(spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/.exec(this.buffer.toString('utf8', 0, headerEnd))?.[1]);
      const start = headerEnd + 4;
      if (this.buffer.length < start + length) return;
      const message = JSON.parse(this.buffer.toString('utf8', start, start + length)) as { type: string };
      this.buffer = this.buffer.subarray(start + length);
      if (message.type !== 'response') continue; // events (projectLoadingStart, typingsInstallerPid, ...)
      const response = message as TsResponse;
      this.pending.get(response.request_seq)?.resolve(response);
      this.pending.delete(response.request_seq);
    }
  }

  /** Sends a request and returns its body; throws when tsserver answers unsuccessfully or not in time. */
  request<T>(command: string, args: unknown, timeoutMs = 60_000): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`tsserver did not answer ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, {
        resolve: (r) => {
          clearTimeout(timer);
          if (r.success) resolve(r.body as T);
          else reject(new Error(`tsserver ${command} failed: ${r.message ?? ''}`));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin.write(`${JSON.stringify({ seq, type: 'request', command, arguments: args })}\n`);
    });
  }

  /** Opens a file (no answer comes for `open`: the next request is answered after it). */
  open(file: string): void {
    this.child.stdin.write(`${JSON.stringify({ seq: ++this.seq, type: 'request', command: 'open', arguments: { file } })}\n`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.write(`${JSON.stringify({ seq: ++this.seq, type: 'request', command: 'exit' })}\n`);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
