// A rule found the node's inputs inconsistent (shapes that cannot broadcast, a Reshape whose
// element counts differ). The driver turns it into a MemlensError naming the node.
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}
