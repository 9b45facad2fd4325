// What ONNX Runtime holds for one inference pass, as the engine predicts it from ORT's own rules:
// the allocation planner's requests (allocation_planner.cc), the BFC arena that serves them
// (bfc_arena.cc), the scratch kernels allocate inside one call, and prepacked weight copies.
// The runner's comparison books a difference to a cause only from these figures, never from the
// residual between the estimate and the measurement.

/** One node end in ORT's execution order. */
export interface OrtNodeHeld {
  node: string;
  /** Bytes requested and still in use after the node (ORT's `mem_bytes_requested_in_use`). */
  requestedInUseBytes: number;
  /** Chunk bytes in use after the node: requests rounded and split as the arena does (`mem_bytes_in_use`). */
  arenaInUseBytes: number;
}

export interface OrtHeldFigures {
  /** Peak of requested bytes in use over the pass. */
  requestedPeakBytes: number;
  /** Peak of the arena's chunk bytes in use. */
  arenaInUsePeakBytes: number;
  /** Bytes of the arena's regions when the peak is reached (regions never shrink within a run). */
  arenaHeldBytes: number;
  /**
   * Small initializers and Constant values (at most 127 B each, kSmallTensorExternalDataThreshold)
   * that ORT copies into memory reserved from the arena: counted in its in-use and held figures.
   */
  reservedBytes: number;
  /** Largest kernel scratch of any one node, with the node. */
  scratchPeakBytes: number;
  scratchNode: string | null;
  /** Weight copies in kernel layouts made by the optimised session (0 with optimisations off). */
  prepackedBytes: number;
  /**
   * The optimised session only: the memory-pattern block (mem_pattern_planner.h) each run after
   * the first takes from the arena for the plan's buffers.
   */
  memPatternBytes?: number;
  /**
   * Weights + prepacked copies + arena held - reserved (the reserved small initializers are
   * weights already): the figure to plan device memory with. Kernel scratch is served by the
   * arena, so the held regions already contain it.
   */
  deviceBytes: number;
  /** Intra-op threads the scratch figures assume (MLAS sizes per-thread buffers). */
  intraOpThreads: number;
  /** Runs on one session the figures cover (the arena's peak is over all of them). */
  runs: number;
  perNode: OrtNodeHeld[];
}
