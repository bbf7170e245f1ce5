/**
 * `--nginx-dns`: which services nginx finds by name, under what name and port, and the
 * addresses lbsync's DNS server answers for each. Pure.
 *
 * @module
 */
import { isIpv6 } from "../util/grammar.ts";
import type { Model, Service } from "../types.ts";

/** The zone of the names: `web` is `web.lbsync.internal`. */
export const DNS_ZONE = "lbsync.internal";

/** The addresses of one name. */
export interface DnsAddresses {
  /** IPv4 addresses (A records). */
  a: string[];
  /** IPv6 addresses (AAAA records). */
  aaaa: string[];
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * The DNS name and port of a service: its name in {@link DNS_ZONE} and the port all its
 * servers share. A name that is not a DNS name, servers on different ports, a static server
 * given by host name, or no server at all give `dnsPort` 0 (nginx then uses an upstream
 * block, and a change of the service's servers takes a reload).
 */
export function dnsFields(service: Service): { dnsName: string; dnsPort: number } {
  const name = `${service.name.toLowerCase()}.${DNS_ZONE}`;
  const labels = service.name.toLowerCase().split(".");
  const ports = new Set(service.servers.map((s) => s.port));
  const addressable = service.servers.every((s) => !s.static || isIp(s.address));
  const usable = labels.every((l) => LABEL.test(l)) && name.length <= 253 && ports.size === 1 &&
    addressable;
  return usable ? { dnsName: name, dnsPort: [...ports][0] } : { dnsName: "", dnsPort: 0 };
}

/**
 * What the DNS server answers: for each service nginx finds by name, the addresses of its
 * servers (the backup servers only when no other is left; weights do not exist in DNS).
 */
export function dnsRecords(model: Model): Map<string, DnsAddresses> {
  const records = new Map<string, DnsAddresses>();
  for (const service of model.services) {
    if (service.dnsPort === 0) continue;
    const primary = service.servers.filter((s) => !s.backup);
    const serving = primary.length > 0 ? primary : service.servers;
    const addresses = [...new Set(serving.map((s) => s.address))];
    records.set(service.dnsName, {
      a: addresses.filter((a) => !isIpv6(a)),
      aaaa: addresses.filter((a) => isIpv6(a)),
    });
  }
  return records;
}

function isIp(address: string): boolean {
  return isIpv6(address) || /^\d{1,3}(\.\d{1,3}){3}$/.test(address);
}
