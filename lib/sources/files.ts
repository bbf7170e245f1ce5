/**
 * Containers from Docker API JSON files (`--from-file`), `-` being standard input.
 *
 * @module
 */
import { containersFromDockerApi } from "../core/input/docker_json.ts";
import { DockerError, fileErrorReason } from "../core/errors.ts";
import type { ContainerInfo } from "../core/types.ts";

/** The reads {@link readContainerFiles} needs; tests may pass their own. */
export interface FileReader {
  /** The text of a file. */
  readTextFile(path: string): Promise<string>;
  /** All of standard input. */
  readStdin(): Promise<string>;
}

/** Reads files and standard input through Deno. */
export const denoFileReader: FileReader = {
  readTextFile: (path) => Deno.readTextFile(path),
  readStdin: () => new Response(Deno.stdin.readable).text(),
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
      json = JSON.parse(text);
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
  return fileErrorReason(error);
}
