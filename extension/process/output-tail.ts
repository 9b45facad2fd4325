// The last bytes a child wrote to one stream, with a fixed cap: a model that prints forever
// costs the caller no more than the cap. What the tail says is only ever shown, never parsed for
// meaning (except Node's own out-of-heap banner, see supervisor.ts).

export interface OutputTail {
  /** The kept tail, decoded as UTF-8 (a character cut at the start is dropped). */
  text: string;
  /** Bytes written before the kept tail. */
  droppedBytes: number;
}

export class TailBuffer {
  private chunks: Buffer[] = [];
  private held = 0;
  private dropped = 0;

  constructor(private readonly capBytes: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.held += chunk.length;
    if (this.held > 2 * this.capBytes) this.trim();
  }

  tail(): OutputTail {
    this.trim();
    let buf = Buffer.concat(this.chunks);
    let skip = 0;
    // A UTF-8 continuation byte (10xxxxxx) at the start belongs to a character cut off by the cap.
    while (this.dropped > 0 && skip < buf.length && skip < 3 && (buf[skip] & 0xc0) === 0x80) skip++;
    buf = buf.subarray(skip);
    return { text: buf.toString('utf8'), droppedBytes: this.dropped + skip };
  }

  private trim(): void {
    if (this.held <= this.capBytes) return;
    const all = Buffer.concat(this.chunks);
    const keep = all.subarray(all.length - this.capBytes);
    this.dropped += all.length - keep.length;
    this.chunks = [Buffer.from(keep)];
    this.held = keep.length;
  }
}
