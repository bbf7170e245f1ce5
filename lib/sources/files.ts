/**
 * Containers from Docker API JSON files (`--from-file`), `-` being standard input.
 *
 * @module
 */
import { containersFromDockerApi } from "../core/input/docker_json.ts";
import { parseJson } from "../core/util/json_access.ts";
import { joinBytes } from "../core/util/bytes.ts";
import { DockerError, fileErrorReason } from "../core/errors.ts";
import type { ContainerInfo } from "../core/types.ts";

/** The reads {@link readContainerFiles} needs; tests may pass their own. */
export interface FileReader {
  /** The text of a file. */
  readTextFile(path: string): Promise<string>;
  /** All of standard input. */
  readStdin(): Promise<string>;
}

/** The largest input file lbsync reads (templates, container files, the config file). */
export const INPUT_FILE_LIMIT = 128 * 1024 * 1024;

/** A file lbsync will not read: not a regular file, or over the size limit. */
export class InputFileError extends Error {}

/**
 * The text of `path`, which must be a regular file of at most `limit` bytes: a FIFO, a
 * device (`/dev/zero`) or a directory is refused before anything is read, and the read stops
 * at the limit.
 *
 * @throws {InputFileError} for a file that is not regular or too large; Deno's errors else
 */
export async function readInputFile(path: string, limit = INPUT_FILE_LIMIT): Promise<string> {
  // before the open: opening a FIFO waits for a writer
  const before = await Deno.stat(path);
  if (!before.isFile) throw new InputFileError(`not a regular file (${kindOf(before)})`);
  const file = await Deno.open(path, { read: true });
  try {
    const info = await file.stat();
    if (!info.isFile) throw new InputFileError(`not a regular file (${kindOf(info)})`);
    if (info.size > limit) throw new InputFileError(`over ${limit} bytes (${info.size})`);
    return await readBounded(file.readable, limit);
  } finally {
    try {
      file.close();
    } catch { /* closed with its stream */ }
  }
}

/** A stream's text, refusing more than `limit` bytes. */
export async function readBounded(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) throw new InputFileError(`over ${limit} bytes`);
    chunks.push(chunk);
  }
  return new TextDecoder().decode(joinBytes(chunks, size));
}

function kindOf(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a file";
}

/** Reads files and standard input through Deno, each within {@link INPUT_FILE_LIMIT}. */
export const denoFileReader: FileReader = {
  readTextFile: (path) => readInputFile(path),
  readStdin: () => readBounded(Deno.stdin.readable, INPUT_FILE_LIMIT),
};

/**
 * Reads containers from each path (`-` = standard input). With several paths, each
 * container's `engine` is the path it came from. A container id seen twice is kept once.
 *
 * @throws {DockerError} naming the file: missing, unreadable, not JSON, not Docker JSON
 */
export async function readContainerFiles(
  paths: string[],
  reader: FileReader = denoFileReader,
): Promise<ContainerInfo[]> {
  const seen = new Set<string>();
  const all: ContainerInfo[] = [];
  for (const path of paths) {
    const name = path === "-" ? "standard input" : path;
    let json: unknown;
    try {
      const text = path === "-" ? await reader.readStdin() : await reader.readTextFile(path);
      json = parseJson(text);
    } catch (error) {
      throw new DockerError(`Cannot read containers from ${name}: ${describe(error)}`, {
        cause: error,
      });
    }
    const engine = paths.length > 1 ? name : "";
    for (const c of containersFromDockerApi(json, { engine, source: name })) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      all.push(c);
    }
  }
  return all;
}

function describe(error: unknown): string {
  if (error instanceof SyntaxError) return `not valid JSON (${error.message})`;
  if (error instanceof InputFileError) return error.message;
  return fileErrorReason(error);
}
