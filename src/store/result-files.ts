import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NAME_PATTERN } from '../../protocol/index.js';

/** Largest output file taken when no limit is configured. */
/** Where the API serves a stored output; an agent's upload answer and the results document use it. */
export const resultPath = (jobId: string, outputId: string) => `/jobs/${jobId}/results/${outputId}`;

export const DEFAULT_MAX_UPLOAD_BYTES = 1024 ** 3;

const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
const OUTPUT_ID = new RegExp(NAME_PATTERN);

export interface StoredFile {
  size: number;
  /** Lowercase hex SHA-256 of the content. */
  sha256: string;
}

/** An upload was cut off at the limit; nothing of it is kept. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the file is larger than the limit of ${maxBytes} bytes`);
  }
}

/** Output names that can be file names: the output name rule, without `.` and `..`. */
export function isStorableOutputId(outputId: string): boolean {
  return OUTPUT_ID.test(outputId) && outputId !== '.' && outputId !== '..';
}

/**
 * Output files that agents upload, kept as `<root>/<jobId>/<outputId>`. A file is written to a
 * partial name, hashed on the way, and renamed once complete, so a reader sees it whole or not
 * at all. Partial names contain `~`, which no output name may, so they never meet a final one.
 */
export class ResultFiles {
  constructor(readonly root: string) {}

  /** Streams `body` into the job's folder, replacing an earlier upload of the same output. */
  async write(jobId: string, outputId: string, body: Readable, maxBytes: number): Promise<StoredFile> {
    const file = this.#file(jobId, outputId);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const part = `${file}~${randomBytes(6).toString('hex')}.part`;
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new FileTooLargeError(maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const out = createWriteStream(part, { flags: 'wx', mode: 0o600 });
    try {
      await pipeline(body, meter, out);
      await rename(part, file);
    } catch (error) {
      // The file may still be opening when the pipeline fails; removed before that, it would come back.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      await rm(part, { force: true });
      throw error;
    }
    return { size, sha256: hash.digest('hex') };
  }

  /** The stored file as a stream with its size, or undefined when there is none. */
  async read(jobId: string, outputId: string): Promise<{ stream: Readable; size: number } | undefined> {
    const file = this.#file(jobId, outputId);
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!info?.isFile()) return undefined;
    return { stream: createReadStream(file), size: info.size };
  }

  /** Removes every file of the job. */
  async remove(jobId: string): Promise<void> {
    await rm(this.#folder(jobId), { recursive: true, force: true });
  }

  #folder(jobId: string): string {
    if (!JOB_ID.test(jobId)) throw new Error(`'${jobId}' is not a job id`);
    return path.join(this.root, jobId);
  }

  #file(jobId: string, outputId: string): string {
    if (!isStorableOutputId(outputId)) throw new Error(`'${outputId}' is not an output id that can be stored`);
    return path.join(this.#folder(jobId), outputId);
  }
}
