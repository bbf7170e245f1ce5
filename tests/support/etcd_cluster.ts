/**
 * A real etcd cluster on loopback for tests (Debian's etcd-server 3.4): members on free ports,
 * data in a temp dir removed by `stop()`; a member can be killed and started again. Optionally
 * TLS on the client port (with client certificates) from a throwaway CA made by openssl.
 */
import { freePort } from "./balancers.ts";
import { requireTool, run, waitForExit } from "./tools.ts";

/** Files of a throwaway CA and the certificates it signed for 127.0.0.1. */
export interface TestPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A running cluster. */
export interface EtcdCluster {
  /** `127.0.0.1:PORT` of each member's client port. */
  endpoints: string[];
  /** `etcd://` (or `etcds://`) URL of every member and `prefix`. */
  url(prefix: string): string;
  /** SIGKILLs member `i` (0-based). */
  kill(i: number): Promise<void>;
  /** Starts member `i` again on its data (then {@link EtcdCluster.healthy} waits for it). */
  start(i: number): Promise<void>;
  /** Waits until every running member answers `/health`. */
  healthy(timeoutMs?: number): Promise<void>;
  /** Stops every member and removes the data. */
  stop(): Promise<void>;
  /** `etcdctl` with the cluster's endpoints (and TLS files). */
  ctl(...args: string[]): Promise<string>;
}

/** Makes a CA and server and client certificates for 127.0.0.1 in `dir`. */
export async function makePki(dir: string): Promise<TestPki> {
  const openssl = requireTool("openssl");
  const p = (name: string) => `${dir}/${name}`;
  const ok = async (args: string[]) => {
    const r = await run([openssl, ...args]);
    if (r.code !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  await ok([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=lbsync-test-ca",
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.crt"),
  ]);
  await Deno.writeTextFile(
    p("ext.cnf"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  for (const who of ["server", "client"]) {
    await ok([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=lbsync-${who}`,
      "-keyout",
      p(`${who}.key`),
      "-out",
      p(`${who}.csr`),
    ]);
    await ok([
      "x509",
      "-req",
      "-in",
      p(`${who}.csr`),
      "-CA",
      p("ca.crt"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      p("ext.cnf"),
      "-out",
      p(`${who}.crt`),
    ]);
  }
  return {
    ca: p("ca.crt"),
    serverCert: p("server.crt"),
    serverKey: p("server.key"),
    clientCert: p("client.crt"),
    clientKey: p("client.key"),
  };
}

/**
 * Starts `size` members (3: a quorum of 2 survives one killed) and waits until all answer.
 * With `pki`, clients speak TLS and must show a certificate the CA signed. A port picked free
 * can be taken before its member binds it (by another process, or a member's own outgoing
 * connection): a start that fails for that reason alone is made once more on new ports; any
 * other failure names the members' last log lines.
 */
export async function startEtcdCluster(
  dir: string,
  size = 3,
  pki?: TestPki,
): Promise<EtcdCluster> {
  try {
    return await startMembers(dir, size, pki);
  } catch (error) {
    if (!(error instanceof PortTaken)) throw error;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    return await startMembers(dir, size, pki);
  }
}

/** A member could not bind the port picked for it. */
class PortTaken extends Error {}

/** `count` distinct free ports on 127.0.0.1. */
function distinctFreePorts(count: number): number[] {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count && tries < count * 10; tries++) ports.add(freePort());
  if (ports.size < count) throw new Error(`no ${count} distinct free ports`);
  return [...ports];
}

async function startMembers(dir: string, size: number, pki?: TestPki): Promise<EtcdCluster> {
  const etcd = requireTool("etcd");
  await Deno.mkdir(dir, { recursive: true });
  const ports = distinctFreePorts(2 * size);
  const clientPorts = ports.slice(0, size);
  const peerPorts = ports.slice(size);
  const scheme = pki ? "https" : "http";
  const initial = peerPorts.map((p, i) => `m${i}=http://127.0.0.1:${p}`).join(",");
  const children: (Deno.ChildProcess | undefined)[] = [];
  const tls = pki
    ? [
      "--cert-file",
      pki.serverCert,
      "--key-file",
      pki.serverKey,
      "--trusted-ca-file",
      pki.ca,
      "--client-cert-auth",
    ]
    : [];
  const startMember = (i: number, state: "new" | "existing") => {
    const client = `${scheme}://127.0.0.1:${clientPorts[i]}`;
    const peer = `http://127.0.0.1:${peerPorts[i]}`;
    children[i] = new Deno.Command(etcd, {
      args: [
        "--name",
        `m${i}`,
        "--data-dir",
        `${dir}/m${i}`,
        "--listen-client-urls",
        client,
        "--advertise-client-urls",
        client,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        initial,
        "--initial-cluster-state",
        state,
        "--initial-cluster-token",
        "lbsync-test",
        "--logger",
        "zap",
        "--log-outputs",
        `${dir}/m${i}.log`,
        ...tls,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  };
  const endpoints = clientPorts.map((p) => `127.0.0.1:${p}`);
  const client = pki
    ? Deno.createHttpClient({
      caCerts: [await Deno.readTextFile(pki.ca)],
      cert: await Deno.readTextFile(pki.clientCert),
      key: await Deno.readTextFile(pki.clientKey),
    })
    : undefined;
  const memberHealthy = async (i: number) => {
    try {
      const r = await fetch(`${scheme}://${endpoints[i]}/health`, {
        signal: AbortSignal.timeout(1000),
        ...(client ? { client } : {}),
      });
      const body = await r.text();
      return r.ok && body.includes("true");
    } catch {
      return false;
    }
  };
  const cluster: EtcdCluster = {
    endpoints,
    url: (prefix) => `${pki ? "etcds" : "etcd"}://${endpoints.join(",")}${prefix}`,
    async kill(i) {
      const child = children[i];
      children[i] = undefined;
      if (!child) return;
      child.kill("SIGKILL");
      await child.status;
    },
    start(i) {
      startMember(i, "existing");
      return Promise.resolve();
    },
    async healthy(timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      const running = children.flatMap((c, i) => (c ? [i] : []));
      while (Date.now() < end) {
        const states = await Promise.all(running.map(memberHealthy));
        if (states.every(Boolean)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `etcd members ${running} not healthy within ${timeoutMs} ms (logs in ${dir})`,
      );
    },
    async stop() {
      // a member whose peers are gone can hang on SIGTERM: SIGKILL after 3 s
      const alive = children.filter((c): c is Deno.ChildProcess => c !== undefined);
      children.fill(undefined);
      for (const c of alive) {
        try {
          c.kill("SIGTERM");
        } catch { /* gone */ }
      }
      await Promise.all(alive.map(async (c) => {
        if (!(await waitForExit(c.pid, 3000))) c.kill("SIGKILL");
        await c.status;
      }));
      client?.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    async ctl(...args) {
      const files = pki
        ? ["--cacert", pki.ca, "--cert", pki.clientCert, "--key", pki.clientKey]
        : [];
      const r = await run([
        requireTool("etcdctl"),
        "--endpoints",
        endpoints.map((e) => `${scheme}://${e}`).join(","),
        ...files,
        ...args,
      ], { env: { ETCDCTL_API: "3" } });
      if (r.code !== 0) throw new Error(`etcdctl ${args.join(" ")}: ${r.stderr.trim()}`);
      return r.stdout;
    },
  };
  try {
    for (let i = 0; i < size; i++) startMember(i, "new");
    await cluster.healthy();
  } catch (error) {
    const logs = await Promise.all(
      clientPorts.map((_, i) => Deno.readTextFile(`${dir}/m${i}.log`).catch(() => "")),
    );
    await cluster.stop();
    if (logs.some((l) => l.includes("address already in use"))) throw new PortTaken(String(error));
    const tails = logs.map((l, i) => `m${i}: ${l.trim().split("\n").slice(-3).join("\n    ")}`);
    throw new Error(`${(error as Error).message}\n  ${tails.join("\n  ")}`);
  }
  return cluster;
}
