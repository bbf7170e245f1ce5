/**
 * A client of HAProxy's runtime API (the `stats socket ... level admin` of a worker): one
 * command per connection, bounded by a timeout, and the parsers of what it answers.
 *
 * @module
 */
import { fileErrorReason, RuntimeApiError } from "../core/errors.ts";

/** A server as `show servers state` reports it. */
export interface ServerState {
  /** Backend name. */
  backend: string;
  /** Server name. */
  name: string;
  /** Address (`-` when it has none yet, no IPv6 brackets). */
  address: string;
  /** Port. */
  port: number;
  /** Operational state: 0 stopped, 1 starting, 2 running, 3 stopping. */
  operational: number;
  /** Administrative state bits: 0x01/0x02/0x04/0x20 maintenance, 0x08/0x10 drain. */
  admin: number;
  /** Weight set by the configuration or the runtime API. */
  weight: number;
}

/** How HAProxy's refusals begin. */
const ERROR_ANSWER = /^(no such|require|invalid|unknown|can't|cannot|.*\berror\b|.*\bfailed\b)/i;

/** Administrative state bits that take a server out of the pool (maintenance or drain). */
export const ADMIN_OUT = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20;

/** Talks to one HAProxy runtime API socket. */
export class RuntimeApi {
  /**
   * @param path the unix socket of `stats socket PATH level admin`
   * @param timeoutMs bound of each command
   */
  constructor(readonly path: string, readonly timeoutMs = 2_000) {}

  /**
   * Sends one command and returns the answer, trimmed.
   *
   * @throws {RuntimeApiError} when the socket cannot be reached or does not answer in time
   */
  async send(command: string): Promise<string> {
    let conn: Deno.UnixConn | undefined;
    const timer = setTimeout(() => conn?.close(), this.timeoutMs);
    try {
      conn = await Deno.connect({ transport: "unix", path: this.path });
      await conn.write(new TextEncoder().encode(`${command}\n`));
      const answer = await new Response(conn.readable).text();
      conn = undefined; // closed by the stream
      return answer.trim();
    } catch (error) {
      conn?.close();
      throw new RuntimeApiError(
        `HAProxy runtime API ${this.path}: ${command.split(" ").slice(0, 2).join(" ")}: ${
          fileErrorReason(error, "no such socket")
        }`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends a command and checks its answer: it must match `success` when given, else it must
   * not read as an error (`No such server.`, `Require ...`, `... failed`).
   *
   * @throws {RuntimeApiError} with HAProxy's answer otherwise
   */
  async expect(command: string, success?: RegExp): Promise<string> {
    const answer = await this.send(command);
    if (success ? !success.test(answer) : ERROR_ANSWER.test(answer)) {
      throw new RuntimeApiError(
        `HAProxy refused "${command}": ${answer.split("\n")[0] || "no answer"}`,
      );
    }
    return answer;
  }

  /** Every server of every backend (`show servers state`). */
  async serversState(): Promise<ServerState[]> {
    return parseServersState(await this.send("show servers state"));
  }

  /** Current sessions per `backend/server` (`show stat`). */
  async sessions(): Promise<Map<string, number>> {
    return parseSessions(await this.send("show stat"));
  }
}

/**
 * Parses `show servers state` (format version 1).
 *
 * @throws {RuntimeApiError} for another format
 */
export function parseServersState(text: string): ServerState[] {
  const lines = text.split("\n");
  if (lines[0]?.trim() !== "1") {
    throw new RuntimeApiError(`Unexpected answer to show servers state: ${lines[0] ?? ""}`);
  }
  const header = (lines[1] ?? "").replace(/^#\s*/, "").split(" ");
  const column = (name: string) => header.indexOf(name);
  const at = {
    backend: column("be_name"),
    name: column("srv_name"),
    address: column("srv_addr"),
    operational: column("srv_op_state"),
    admin: column("srv_admin_state"),
    weight: column("srv_uweight"),
    port: column("srv_port"),
  };
  if (Object.values(at).some((i) => i < 0)) {
    throw new RuntimeApiError("show servers state lacks a column lbsync needs");
  }
  return lines.slice(2).filter((l) => l.trim() !== "").map((line) => {
    const f = line.split(" ");
    return {
      backend: f[at.backend],
      name: f[at.name],
      address: f[at.address],
      port: Number(f[at.port]),
      operational: Number(f[at.operational]),
      admin: Number(f[at.admin]),
      weight: Number(f[at.weight]),
    };
  });
}

/** Parses the CSV of `show stat` into current sessions by `backend/server`. */
export function parseSessions(csv: string): Map<string, number> {
  const sessions = new Map<string, number>();
  const [head, ...rows] = csv.split("\n");
  const header = head.replace(/^#\s*/, "").split(",");
  const proxy = header.indexOf("pxname"), server = header.indexOf("svname");
  const current = header.indexOf("scur");
  for (const row of rows) {
    const f = row.split(",");
    if (f.length < header.length - 1 || f[server] === "BACKEND" || f[server] === "FRONTEND") {
      continue;
    }
    sessions.set(`${f[proxy]}/${f[server]}`, Number(f[current]) || 0);
  }
  return sessions;
}
