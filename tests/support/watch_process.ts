/** `lbsync watch` as a real child process, with its log collected and bounded waits. */
import { ROOT } from "./fixtures.ts";

/** A running `lbsync watch`. */
export class WatchProcess {
  readonly child: Deno.ChildProcess;
  log = "";
  readonly #done: Promise<Deno.CommandStatus>;

  /**
   * Starts `deno run -A cli.ts watch ARGS`, after `prefix` when given (e.g. `ip netns exec NS`,
   * which execs it: signals reach lbsync itself).
   */
  constructor(args: string[], prefix: string[] = []) {
    const command = [...prefix, Deno.execPath(), "run", "-A", `${ROOT}/cli.ts`, "watch", ...args];
    this.child = new Deno.Command(command[0], {
      args: command.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) this.log += chunk;
    };
    const reading = Promise.all([collect(this.child.stdout), collect(this.child.stderr)]);
    this.#done = this.child.status.then(async (s) => {
      await reading;
      return s;
    });
  }

  /** Waits until `test()` holds, polling; fails with the log after `timeoutMs`. */
  async until(
    what: string,
    test: () => boolean | Promise<boolean>,
    timeoutMs = 10_000,
  ): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (await test()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; log:\n${this.log}`);
  }

  /** Waits for a log line matching `pattern`, counting from `after` characters of log. */
  untilLog(pattern: RegExp, timeoutMs = 10_000, after = 0): Promise<void> {
    return this.until(`log ${pattern}`, () => pattern.test(this.log.slice(after)), timeoutMs);
  }

  /** Sends a signal. */
  signal(signal: Deno.Signal): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then the exit status (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<Deno.CommandStatus> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* exited */ }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* exited */ }
    }, timeoutMs);
    const status = await this.#done;
    clearTimeout(timer);
    return status;
  }
}

/** Replaces `path` the way editors do: write a new file, rename it over the old one. */
export async function writeByRename(path: string, text: string): Promise<void> {
  const temp = `${path}.swp${Math.random().toString(16).slice(2, 8)}`;
  await Deno.writeTextFile(temp, text);
  await Deno.rename(temp, path);
}

/** The text of `path`, or `""`. */
export async function readOr(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return "";
  }
}
