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
 * until `signal` aborts; a path ending in `/` stands for every file of that directory.
 * Directories that cannot be watched are skipped.
 */
export const watchFiles: FileWatcher = (
  paths: string[],
  onChange: (path: string) => void,
  signal: AbortSignal,
): void => {
  const wanted = new Set(paths.filter((p) => !p.endsWith("/")).map(absolute));
  // `DIR/`: every file of DIR
  const whole = new Set(paths.filter((p) => p.endsWith("/")).map((p) => dirOf(absolute(p))));
  const dirs = new Set([...[...wanted].map(dirOf), ...whole]);
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
          if (wanted.has(path) || whole.has(dirOf(path))) onChange(path);
        }
      }
    })().catch(() => {});
  }
};

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`.replace(/\/\.\//g, "/");
}
