import type { Readable } from 'node:stream';

/**
 * A response body read chunk by chunk, knowing the file offset of its next byte, that can give
 * back what one segment did not take. One open-ended response (`bytes=a-`, or the whole file)
 * carries the bytes of every segment after `a`: with it, one connection fills them in turn
 * instead of asking each one anew, which would make the server send the rest of the file again
 * for every segment.
 */
export class BodyReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private held?: Buffer;

  /** `offset`: the file offset of the body's first byte. */
  constructor(body: Readable, private offset: number) {
    // Not `for await`: leaving that loop would destroy the body another segment may still read.
    this.chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** The file offset of the next byte `next` returns. */
  get position(): number {
    return this.offset;
  }

  /** The next chunk, or undefined at the end of the body. */
  async next(): Promise<Buffer | undefined> {
    let chunk = this.held;
    this.held = undefined;
    if (!chunk) {
      const { value, done } = await this.chunks.next();
      if (done) return undefined;
      chunk = value;
    }
    this.offset += chunk.length;
    return chunk;
  }

  /** Returns the unused tail of the last chunk: `next` yields it again. */
  giveBack(rest: Buffer): void {
    if (rest.length === 0) return;
    this.held = rest;
    this.offset -= rest.length;
  }
}
