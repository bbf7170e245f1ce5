/** Runs the `lbsync` CLI in-process with captured output. */
import { type CliIo, denoCliIo, runCli } from "../../cli.ts";

/** Exit code, stdout and stderr of one CLI run; `stdin` feeds `--from-file -`. */
export async function lbsync(
  args: string[],
  stdin = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    ...denoCliIo,
    readStdin: () => Promise.resolve(stdin),
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}
