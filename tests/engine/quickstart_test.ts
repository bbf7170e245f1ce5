/**
 * The README's quick start, run as written: every line of its `sh` blocks, in order, against the
 * test engine, a real nginx and a real HAProxy started from copies of Debian's own configuration
 * (its default site, its haproxy.cfg and systemd unit). The machine is stood for by a temp
 * root: each path the README names (/etc/nginx, /etc/haproxy, /etc/default/haproxy, /run,
 * /usr/local) maps into it, port 80 maps to a free port, `systemctl` runs the unit's own
 * command lines, `traefik/whoami` is the test image answering on port 80, and container names get
 * the scenario's suffix. A line the translation does not know fails the test, so the README
 * cannot say a step this test does not take.
 */
import assert from "node:assert/strict";
import { ENGINE_SOCK, engineMissing, Scenario } from "../support/engine.ts";
import { eventually, freePort } from "../support/balancers.ts";
import { IN_CI, missing, noteSkipped, requireTool, run, waitForExit } from "../support/tools.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const README = await Deno.readTextFile(`${ROOT}/README.md`);
const DEBIAN_HAPROXY_UNIT = "/lib/systemd/system/haproxy.service";

/** The quick start's steps: each `###` heading with the shell lines of its blocks. */
function quickStart(): { title: string; lines: string[] }[] {
  const section = README.slice(
    README.indexOf("## Quick start"),
    README.indexOf("\n## ", README.indexOf("## Quick start") + 1),
  );
  return section.split("\n### ").slice(1).map((part) => ({
    title: part.split("\n")[0],
    lines: [...part.matchAll(/```sh\n([^]*?)```/g)].flatMap((m) => m[1].split("\n"))
      .map((l) => l.replace(/\s+#.*$/, "").trim()).filter((l) => l !== ""),
  }));
}

/** Splits a shell line into words (plain, '...' and "..." words). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

const rootMissing = !IN_CI && Deno.uid() !== 0;
if (rootMissing) noteSkipped("the quick start runs as root (nginx's user, HAProxy's chroot)");

Deno.test({
  name: "the README's quick start works as written: nginx, HAProxy, watch as a service",
  ignore: rootMissing || missing("nginx", "haproxy", "curl") || await engineMissing(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const steps = quickStart();
    assert.deepEqual(steps.map((s) => s.title.replace(/^\d\. /, "")), [
      "Install",
      "Two containers behind nginx",
      "The same behind HAProxy",
      "Watch mode as a service",
    ]);
    const machine = await Machine.create();
    try {
      for (const step of steps) {
        await t.step(step.title, async () => {
          for (const line of step.lines) await machine.perform(line);
          await machine.verify(step.title);
        });
      }
      // the README's last line: its clean-up
      const cleanUp = /Clean up: `([^`]+)`/.exec(README)?.[1];
      assert.ok(cleanUp, "the quick start ends with its clean-up");
      await machine.perform(cleanUp);
      assert.equal(await machine.containersLeft(), 0);
    } finally {
      await machine.close();
    }
  },
});

/** A Debian machine's paths, services and commands, inside one temp root. */
class Machine {
  readonly port = freePort();
  readonly scenario = new Scenario();
  readonly answers: string[] = [];
  readonly ids = new Map<string, string>();
  /** What the services started from units wrote on stderr. */
  log = "";
  #services = new Map<string, { pid: number; child?: Deno.ChildProcess }>();

  private constructor(readonly dir: string) {}

  static async create(): Promise<Machine> {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-quickstart-" });
    const m = new Machine(dir);
    for (
      const d of ["etc/default", "etc/systemd/system", "run/haproxy", "log", "usr/local", "backups"]
    ) {
      await Deno.mkdir(`${dir}/${d}`, { recursive: true });
    }
    // symlinks resolved: the copy is the machine, not a window onto the real /etc
    await run(["cp", "-rL", "/etc/nginx", "/etc/haproxy", `${dir}/etc/`]);
    await Deno.copyFile("/etc/default/haproxy", `${dir}/etc/default/haproxy`).catch(() =>
      Deno.writeTextFile(`${dir}/etc/default/haproxy`, "")
    );
    for (const file of await m.#configFiles()) {
      const text = await Deno.readTextFile(file);
      await Deno.writeTextFile(
        file,
        m.path(text).replace(/listen (\[::\]:)?80 /g, (_, v6) => `listen ${v6 ?? ""}${m.port} `),
      );
    }
    // as after `apt-get install nginx`: Debian's nginx runs, its default site on port 80
    await m.#start("nginx");
    return m;
  }

  /** Maps a path, or every path in a text, from the README's machine into the temp root. */
  path(text: string): string {
    return text
      .replaceAll("/opt/lbsync", ROOT)
      .replace(
        /(?<![\w/.-])\/(etc\/nginx|etc\/haproxy|etc\/default|etc\/systemd|run|usr\/local)\b/g,
        `${this.dir}/$1`,
      )
      .replaceAll("/var/log/nginx", `${this.dir}/log`)
      .replaceAll("/var/backups/lbsync", `${this.dir}/backups`);
  }

  /** One line of the README, translated. */
  async perform(line: string): Promise<void> {
    for (const command of line.split(" && ")) await this.#command(words(command), line);
  }

  async #command(argv: string[], line: string): Promise<void> {
    const env: Record<string, string> = {};
    while (/^[A-Z_]+=/.test(argv[0])) {
      const [k, v] = argv.shift()!.split("=");
      env[k] = this.path(v);
    }
    const [program, ...args] = argv;
    const redirect = args.indexOf(">>");
    if (program === "apt-get") {
      const tool: Record<string, string> = { "docker.io": "docker" };
      for (const p of args.filter((a) => !a.startsWith("-") && a !== "install")) {
        requireTool(tool[p] ?? p);
      }
    } else if (program === "npm" && args.join(" ") === "install -g deno@2") {
      assert.match(Deno.version.deno, /^2\./);
    } else if (program === "cd") {
      assert.equal(this.path(args[0]), ROOT);
    } else if (program === "deno" && args.join(" ") === "task install") {
      await this.#ok([Deno.execPath(), "task", "install"], env);
    } else if (program === "lbsync") {
      await this.#lbsync(args);
    } else if (program === "docker") {
      await this.#docker(args);
    } else if (program === "rm" && args.length === 1) {
      await Deno.remove(this.path(args[0]));
    } else if (program === "curl") {
      const url = args.at(-1)!.replace("http://127.0.0.1/", `http://127.0.0.1:${this.port}/`);
      const r = await this.#ok(["curl", ...args.slice(0, -1), "--max-time", "5", url]);
      this.answers.push(r.trim());
    } else if (program === "echo" && redirect === 1) {
      await Deno.writeTextFile(this.path(args[2]), args[0] + "\n", { append: true });
    } else if (program === "cp" && args.length === 2) {
      const to = this.path(args[1]);
      await Deno.copyFile(
        `${ROOT}/${args[0]}`,
        to.endsWith("/") ? to + args[0].split("/").pop() : to,
      );
    } else if (program === "systemctl") {
      await this.#systemctl(args);
    } else {
      throw new Error(`the quick start says a step this test does not know: ${line}`);
    }
  }

  async #lbsync(args: string[]): Promise<void> {
    const out = await this.#ok([this.#lbsyncCommand(), ...this.#lbsyncArgs(args)]);
    if (args[0] === "--version") assert.match(out, /^lbsync \d+\.\d+\.\d+/);
    if (args[0] === "explain") {
      for (const name of ["hello-1", "hello-2"]) {
        const row = out.split("\n").find((l) => l.startsWith(this.scenario.name(name)));
        assert.match(row ?? "", /\sin\s+hello\s/, `${name} in explain:\n${out}`);
      }
    }
  }

  #lbsyncCommand(): string {
    return `${this.dir}/usr/local/bin/lbsync`;
  }

  /** Paths mapped, containers named; render and watch listen on the test's port. */
  #lbsyncArgs(args: string[]): string[] {
    const mapped = args.map((a) => this.#commandText(a));
    return ["render", "watch"].includes(mapped[0])
      ? [mapped[0], "--listen", String(this.port), ...mapped.slice(1)]
      : mapped;
  }

  /** A command line inside an option (--check-cmd, --reload-cmd): paths, nginx's and systemctl's. */
  #commandText(text: string): string {
    const conf = `${this.dir}/etc/nginx/nginx.conf`;
    return this.path(text)
      .replace(/^nginx /, `nginx -c ${conf} `)
      .replace(/^systemctl reload nginx$/, `nginx -c ${conf} -s reload`);
  }

  async #docker(args: string[]): Promise<void> {
    if (args[0] === "run") {
      const name = args[args.indexOf("--name") + 1];
      const rest = args.slice(1, -1).filter((a, i, all) =>
        a !== "--name" && all[i - 1] !== "--name"
      );
      assert.equal(args.at(-1), "traefik/whoami");
      const started = await this.scenario.run(name, [...rest, "-e", "PORT=80"]);
      this.ids.set(name, started.id);
    } else if (args[0] === "rm" && args[1] === "-f") {
      await this.#ok(["docker", "rm", "-f", ...args.slice(2).map((n) => this.scenario.name(n))]);
    } else {
      throw new Error(`the quick start runs docker ${args.join(" ")}: not translated`);
    }
  }

  async #systemctl(args: string[]): Promise<void> {
    const [verb, ...units] = args;
    if (verb === "daemon-reload") return;
    if (verb === "enable" && units[0] === "--now") return await this.#start(units[1]);
    if (verb === "stop") return await this.#stop(units[0]);
    if (verb === "start") return await this.#start(units[0]);
    if (verb === "restart") {
      await this.#stop(units[0]);
      return await this.#start(units[0]);
    }
    throw new Error(`systemctl ${args.join(" ")}: not translated`);
  }

  /** Starts a service as its unit would: nginx, Debian's haproxy unit, or lbsync's own unit. */
  async #start(unit: string): Promise<void> {
    if (this.#services.has(unit)) return;
    if (unit === "nginx") {
      await this.#ok(["nginx", "-c", `${this.dir}/etc/nginx/nginx.conf`]);
      const pid = Number(await Deno.readTextFile(`${this.dir}/run/nginx.pid`));
      this.#services.set(unit, { pid });
    } else if (unit === "haproxy") {
      const argv = await this.#haproxyExecStart();
      const child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        stdout: "null",
        stderr: "null",
      })
        .spawn();
      const pidFile = argv[argv.indexOf("-p") + 1];
      await eventually(
        async () => (await Deno.readTextFile(pidFile).catch(() => "")).trim() !== "",
        10_000,
      );
      this.#services.set(unit, { pid: Number(await Deno.readTextFile(pidFile)), child });
    } else {
      const text = await Deno.readTextFile(`${this.dir}/etc/systemd/system/${unit}.service`);
      const exec = unitLines(text, "ExecStart");
      assert.equal(exec.length, 1, `${unit}: one ExecStart`);
      for (const pre of unitLines(text, "ExecStartPre")) await this.#ok(this.#unitArgv(pre));
      const argv = this.#unitArgv(exec[0]);
      const child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        env: { DOCKER_HOST: `unix://${ENGINE_SOCK}` },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      // its log, kept to name in a failure
      child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (chunk) => void (this.log += chunk) }),
      ).catch(() => {});
      this.#services.set(unit, { pid: child.pid, child });
    }
  }

  /** A unit's command line: lbsync's command and Deno resolved, paths mapped, the test's port. */
  #unitArgv(line: string): string[] {
    const argv = words(line).map((w) => w === "deno" ? Deno.execPath() : w);
    if (argv[0] === "/usr/bin/env") argv.shift();
    const at = argv.findIndex((w) => /(^|\/)lbsync$|cli\.ts$|lbsync\.js$/.test(w));
    const head = argv.slice(0, at + 1).map((w) =>
      /(^|\/)lbsync$/.test(w) ? this.#lbsyncCommand() : this.path(w)
    );
    return at < 0
      ? argv.map((w) => this.path(w))
      : [...head, ...this.#lbsyncArgs(argv.slice(at + 1))];
  }

  /** Debian's haproxy unit's ExecStart, with its environment files read as systemd reads them. */
  async #haproxyExecStart(): Promise<string[]> {
    const unit = await Deno.readTextFile(DEBIAN_HAPROXY_UNIT);
    const vars = new Map<string, string>();
    for (const m of unitLines(unit, "Environment").join(" ").matchAll(/"?(\w+)=([^"]*)"?/g)) {
      vars.set(m[1], m[2]);
    }
    const file = await Deno.readTextFile(`${this.dir}/etc/default/haproxy`);
    for (const m of file.matchAll(/^(\w+)="?([^"\n]*)"?$/gm)) vars.set(m[1], m[2]);
    const exec = unitLines(unit, "ExecStart")[0];
    const expanded = exec.replace(/\$(\w+)/g, (_, v) => vars.get(v) ?? "");
    return words(this.path(expanded));
  }

  async #stop(unit: string): Promise<void> {
    const service = this.#services.get(unit);
    if (!service) return;
    this.#services.delete(unit);
    try {
      Deno.kill(service.pid, unit === "nginx" ? "SIGQUIT" : "SIGTERM");
    } catch { /* gone already */ }
    assert.ok(await waitForExit(service.pid, 10_000), `${unit} did not stop`);
    await service.child?.status;
  }

  /** After each step, what the README says the reader sees. */
  async verify(title: string): Promise<void> {
    const id = (n: string) => this.ids.get(n)!;
    if (title.includes("nginx") && !title.includes("Watch")) {
      assert.deepEqual(new Set(this.answers.splice(0)), new Set([id("hello-1"), id("hello-2")]));
    } else if (title.includes("HAProxy")) {
      const answer = this.answers.splice(0);
      assert.equal(answer.length, 1);
      assert.ok([id("hello-1"), id("hello-2")].includes(answer[0]), answer[0]);
      const argv = await this.#haproxyExecStart();
      assert.ok(argv.includes("-Ws"), "master-worker");
      const served = await this.#ok([
        "curl",
        "-s",
        "-H",
        "Host: hello.example.com",
        `http://127.0.0.1:${this.port}/`,
      ]);
      assert.ok([id("hello-1"), id("hello-2")].includes(served.trim()));
    } else if (title.includes("Watch")) {
      // the watch applies hello-3 within a batch (heartbeat MAX, 2 s) and a checked reload
      const all = new Set([id("hello-1"), id("hello-2"), id("hello-3")]);
      const seen = new Set(this.answers.splice(0));
      await eventually(async () => {
        const r = await run([
          "curl",
          "-s",
          "--max-time",
          "2",
          "-H",
          "Host: hello.example.com",
          `http://127.0.0.1:${this.port}/`,
        ]);
        seen.add(r.stdout.trim());
        return [...all].every((a) => seen.has(a));
      }, 20_000).catch((e) => {
        throw new Error(
          `${e.message}: the watch served ${[...seen]}, not all of ${[
            ...all,
          ]}; its log:\n${this.log}`,
        );
      });
    }
  }

  async containersLeft(): Promise<number> {
    const r = await this.#ok([
      "docker",
      "ps",
      "-aq",
      "--filter",
      `label=lbsync-test=${this.scenario.tag}`,
    ]);
    return r.split("\n").filter((l) => l !== "").length;
  }

  async close(): Promise<void> {
    for (const unit of [...this.#services.keys()].reverse()) await this.#stop(unit).catch(() => {});
    await this.scenario.cleanup();
    await Deno.remove(this.dir, { recursive: true });
  }

  async #configFiles(): Promise<string[]> {
    const r = await run([
      "grep",
      "-rlE",
      "/etc/|/run/|/var/log/|listen ",
      `${this.dir}/etc/nginx`,
      `${this.dir}/etc/haproxy`,
    ]);
    return r.stdout.split("\n").filter((l) => l !== "" && !l.includes("/errors/"));
  }

  async #ok(argv: string[], env: Record<string, string> = {}): Promise<string> {
    const r = await run(argv, { env: { DOCKER_HOST: `unix://${ENGINE_SOCK}`, ...env } });
    assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }
}

/** The values of one key of a systemd unit, continuation lines joined. */
function unitLines(unit: string, key: string): string[] {
  return unit.replace(/\\\n\s*/g, " ").split("\n")
    .filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1).trim());
}
