/**
 * `--nginx-dns ADDR`: a small authoritative DNS server (UDP) for the zone of lbsync's
 * service names, answering nginx's resolver with the current servers of each service.
 *
 * @module
 */
import dgram from "node:dgram";
import { errorMessage, LbsyncError } from "../errors.ts";
import { parseListenAddress } from "../status_server.ts";
import { DNS_ZONE, type DnsAddresses } from "./dns_names.ts";
import { answer, errorReply, parseQuery, RCODE } from "./dns_packet.ts";

const RCODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries({
    NOERROR: RCODE.ok,
    FORMERR: RCODE.formErr,
    NXDOMAIN: RCODE.nxDomain,
    NOTIMP: RCODE.notImp,
    REFUSED: RCODE.refused,
  })
    .map(([name, code]) => [code, name]),
);

/** A running DNS server: replace its records, close it. */
export interface DnsServer {
  /** The UDP port it answers on. */
  port: number;
  /** The records to answer from now on. */
  update(records: Map<string, DnsAddresses>): void;
  /** Stops answering. */
  close(): Promise<void>;
}

/**
 * Answers DNS queries on `address` (`PORT` binds 127.0.0.1, or `HOST:PORT`) until closed:
 * names of {@link DNS_ZONE} from the records (NXDOMAIN for others of the zone), REFUSED for
 * names outside it. Each answer starts one address further, so every server is handed out.
 * `answered` is told the response code of each reply.
 *
 * @throws {ConfigError} for a bad address; rejects when the port cannot be bound
 */
export async function serveDns(
  address: string,
  answered: (rcode: string) => void = () => {},
): Promise<DnsServer> {
  const { hostname, port } = parseListenAddress(address, "--nginx-dns");
  const socket = dgram.createSocket(hostname.includes(":") ? "udp6" : "udp4");
  let records = new Map<string, DnsAddresses>();
  let turn = 0;
  socket.on("message", (message: Uint8Array, peer: { address: string; port: number }) => {
    const query = parseQuery(message);
    if (query === undefined) return;
    const reply = "rcode" in query
      ? errorReply(query.id, query.flags, query.rcode)
      : query.name === DNS_ZONE || query.name.endsWith(`.${DNS_ZONE}`)
      ? answer(query, records.get(query.name), undefined, 1, turn++)
      : answer(query, undefined, RCODE.refused);
    socket.send(reply, peer.port, peer.address);
    answered(RCODE_NAMES[reply[3] & 0xf] ?? String(reply[3] & 0xf));
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) =>
      reject(new LbsyncError(`Cannot answer DNS on ${hostname}:${port}: ${errorMessage(error)}`));
    socket.once("error", failed);
    socket.bind(port, hostname, () => {
      socket.off("error", failed);
      resolve();
    });
  });
  socket.on("error", () => {}); // a send to a peer that went away: nothing to do
  return {
    port: socket.address().port,
    update(next) {
      records = next;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
