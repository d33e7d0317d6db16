/**
 * A buffer text is laid out in before a copy of it is handed on, kept (and grown) from one use to the next, so
 * that writing a batch allocates only its result.
 */
export class ScratchBuffer {
  #bytes = Buffer.alloc(0);

  /** The buffer, with at least `bytes` free from `pos` (grown, keeping its first `pos` bytes, when not). */
  reserve(pos: number, bytes: number): Buffer {
    if (pos + bytes > this.#bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.#bytes.length, pos + bytes));
      this.#bytes.copy(grown, 0, 0, pos);
      this.#bytes = grown;
    }
    return this.#bytes;
  }

  /** A buffer of its own holding the first `end` bytes. */
  copy(end: number): Buffer {
    return Buffer.from(this.#bytes.subarray(0, end));
  }

  /** The first `end` bytes as a latin1 string. */
  latin1(end: number): string {
    return this.#bytes.toString('latin1', 0, end);
  }
}
