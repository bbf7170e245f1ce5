/**
 * Real nginx and HAProxy for tests: validate rendered output (`nginx -t`, `haproxy -c`) and
 * run private instances on 127.0.0.1 in a temporary directory.
 */
import { requireTool, run } from "./tools.ts";

/** Result of a balancer's own config check. */
export interface CheckResult {
  ok: boolean;
  output: string;
}

const STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";

/**
 * A complete nginx.conf for a private prefix `dir` that includes the http file and,
 * when given, the stream file.
 */
export function nginxMainConf(dir: string, httpFile?: string, streamFile?: string): string {
  return [
    streamFile ? `load_module ${STREAM_MODULE};` : "",
    "user root;",
    "worker_processes 1;",
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log notice;`,
    "events { worker_connections 512; }",
    "http {",
    `    access_log ${dir}/access.log;`,
    `    client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;`,
    `    fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
    httpFile ? `    include ${httpFile};` : "",
    "}",
    streamFile ? `stream {\n    include ${streamFile};\n}` : "",
    "",
  ].join("\n");
}

/** Runs real `nginx -t` on rendered http and stream files. */
export async function nginxCheck(files: { http?: string; stream?: string }): Promise<CheckResult> {
  const nginx = requireTool("nginx");
  const dir = await Deno.makeTempDir({ prefix: "lbsync-nginx-" });
  try {
    const http = files.http === undefined ? undefined : `${dir}/lbsync.conf`;
    const stream = files.stream === undefined ? undefined : `${dir}/lbsync-stream.conf`;
    if (http) await Deno.writeTextFile(http, files.http!);
    if (stream) await Deno.writeTextFile(stream, files.stream!);
    await Deno.writeTextFile(`${dir}/nginx.conf`, nginxMainConf(dir, http, stream));
    const r = await run([nginx, "-t", "-p", `${dir}/`, "-c", `${dir}/nginx.conf`]);
    return { ok: r.code === 0, output: (r.stdout + r.stderr).trim() };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs real `haproxy -c` on a rendered haproxy.cfg. Warnings count as failures. */
export async function haproxyCheck(text: string): Promise<CheckResult> {
  const haproxy = requireTool("haproxy");
  const file = await Deno.makeTempFile({ prefix: "lbsync-haproxy-", suffix: ".cfg" });
  try {
    await Deno.writeTextFile(file, text);
    const r = await run([haproxy, "-c", "-f", file]);
    const output = (r.stdout + r.stderr).trim();
    return { ok: r.code === 0 && !/\[(WARNING|ALERT)\]/.test(output), output };
  } finally {
    await Deno.remove(file);
  }
}
