/**
 * Watches files for changes, including editors that save by writing a new file and
 * renaming it over the old one: the directories are watched, events filtered by name.
 *
 * @module
 */

/** Calls `onChange(path)` when one of `paths` changes, until `signal` aborts. */
export type FileWatcher = (
  paths: string[],
  onChange: (path: string) => void,
  signal: AbortSignal,
) => void;

/**
 * Calls `onChange(path)` when one of `paths` is created, modified, renamed over or removed,
 * until `signal` aborts. Directories that cannot be watched are skipped.
 */
export const watchFiles: FileWatcher = (
  paths: string[],
  onChange: (path: string) => void,
  signal: AbortSignal,
): void => {
  const wanted = new Set(paths.map(absolute));
  const dirs = new Set([...wanted].map((p) => p.slice(0, p.lastIndexOf("/")) || "/"));
  for (const dir of dirs) {
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(dir, { recursive: false });
    } catch {
      continue;
    }
    signal.addEventListener("abort", () => watcher.close(), { once: true });
    (async () => {
      for await (const event of watcher) {
        for (const path of event.paths) {
          if (wanted.has(path)) onChange(path);
        }
      }
    })().catch(() => {});
  }
};

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`.replace(/\/\.\//g, "/");
}
