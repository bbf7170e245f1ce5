/**
 * The routing conformance corpus: requests generated from a model's routes with a fixed seed
 * (hosts in every spelling, prefix boundaries, `//`, `.`, `..`, `%XX`, encoded slashes, long
 * paths, query strings, unknown and malformed hosts, IPv6 literals, fragments, absolute-form
 * targets with the same, another or no Host header, no Host header), and the answer class
 * each gets: the service name, or `503`, `404`, `400`, `301 LOCATION`.
 */
import { type Model, routeRequest } from "../../mod.ts";
import { seededRandom } from "./fixtures.ts";

/** One request of the corpus: on which http listener (index), with which Host and path. */
export interface CorpusRequest {
  /** Index into the model's http listeners (or `tcp:N` for the N-th tcp listener). */
  listener: number;
  /** Host header, `null` for none (HTTP/1.0 without Host). */
  host: string | null;
  /** Raw request target, as sent. */
  path: string;
}

/** Percent-encodes the first letter of the path: `/api` -> `/%61pi`. */
function encodeFirstLetter(path: string): string {
  const i = path.search(/[A-Za-z]/);
  if (i < 0) return path;
  return path.slice(0, i) + "%" + path.charCodeAt(i).toString(16).toUpperCase() + path.slice(i + 1);
}

/**
 * The corpus for `model`, generated with `seed`; `extraHosts` are tried too (names that a
 * regular-expression host matches, which cannot be generated from the model).
 */
export function generateCorpus(
  model: Model,
  seed: number,
  extraHosts: string[] = [],
): CorpusRequest[] {
  const rnd = seededRandom(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(rnd() * items.length)];
  const word = () =>
    Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => pick([..."abcxyz09-_."])).join("");
  const out: CorpusRequest[] = [];
  const seen = new Set<string>();
  const add = (listener: number, host: string | null, path: string) => {
    const key = `${listener} ${host} ${path}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ listener, host, path });
  };

  model.httpListeners.forEach((listener, li) => {
    const hostNames: string[] = [];
    for (const v of listener.virtualHosts.filter((v) => !v.regex)) {
      const concrete = v.wildcard
        ? `${word().replace(/^[-_.]+|[-_.]+$/g, "") || "w"}${v.matchValue}`
        : v.host;
      hostNames.push(concrete, concrete.toUpperCase(), `${concrete}.`, `${concrete}:${8080 + li}`);
      if (v.wildcard) {
        hostNames.push(v.matchValue.slice(1), `a.b${v.matchValue}`);
      }
    }
    hostNames.push("unknown.test", "example", "UNKNOWN.TEST.", ...extraHosts);
    const paths = new Set<string>(["/", "", "/x"]);
    for (
      const route of [
        ...listener.defaultRoutes,
        ...listener.virtualHosts.flatMap((v) => v.routes),
      ]
    ) {
      const p = route.path;
      paths.add(p);
      paths.add(`${p}${p.endsWith("/") ? "" : "/"}sub/page`);
      if (p.length > 1) paths.add(p.slice(0, -1));
      paths.add(`${p}x`);
      paths.add(p.toUpperCase());
      paths.add(`/${p}`); // a leading // merged
      paths.add(p.replace(/\/([^/]*)$/, "//$1"));
      paths.add(`/x/..${p}`);
      paths.add(`/./${p.slice(1)}`);
      paths.add(encodeFirstLetter(p));
      paths.add(`${p}?q=1&next=/admin`);
      paths.add(p.replaceAll("/", "%2F").replace(/^%2F/, "/"));
    }
    paths.add("/%61dmin/x");
    paths.add("//admin/x");
    paths.add("/x/../admin/x");
    paths.add("/x/%2E%2E/admin/x");
    paths.add("/admin%2Fx");
    paths.add("/../admin");
    paths.add("/a/b/c/../../../admin");
    paths.add("/%zz");
    paths.add("/%00");
    paths.add("/%25");
    paths.add("/a%20b");
    paths.add("/" + "long/".repeat(400));
    paths.add("/api" + "x".repeat(1500));
    const pathList = [...paths];
    // every host with a few paths, every path with a few hosts: both axes covered
    for (const host of hostNames) {
      for (let i = 0; i < 6; i++) add(li, host, pick(pathList) || "/");
    }
    for (const path of pathList) {
      for (let i = 0; i < 3; i++) add(li, pick(hostNames), path || "/");
      add(li, null, path || "/");
    }
    for (const bad of ["a..b.test", "bad/host", "", ".", ":80", "a b.test"]) add(li, bad, "/");
    // IPv6 literals, fragments, and absolute-form targets: with the same host as the Host
    // header (in another spelling), another host, and no Host header at all
    for (const literal of ["[::1]", "[::1]:8080", "[fe80::1]", "[::1]."]) add(li, literal, "/");
    for (const path of ["/x#frag", "/#/../admin", `${pick(pathList) || "/"}#`]) {
      add(li, pick(hostNames), path);
    }
    for (const host of hostNames.filter((_, i) => i % 3 === 0)) {
      const bare = host.replace(/:\d+$/, "").replace(/\.$/, "");
      add(li, host, `http://${bare.toUpperCase()}${pick(pathList) || "/"}`);
      add(li, pick(hostNames), `http://${bare}/`);
      add(li, null, `http://${bare}/`);
    }
  });
  return out;
}

/** What `routeRequest` says a corpus request gets, as an answer class. */
export function expectedAnswer(model: Model, listen: number, request: CorpusRequest): string {
  const answer = routeRequest(model, {
    listen,
    host: request.host ?? undefined,
    path: request.path,
  });
  switch (answer.kind) {
    case "routed":
      return answer.servers.length > 0 ? answer.service.name : "503";
    case "not-found":
      return String(answer.status);
    case "bad-request":
      return "400";
    case "redirect":
      return `301 ${answer.location}${
        request.path.includes("?") ? "?" + request.path.split("?")[1] : ""
      }`;
  }
}

/** The answer class of a response: the body of a 200, `301 LOCATION-PATH`, or the status. */
export function answerClass(status: number, body: string, location: string | undefined): string {
  if (status === 200) return body.trim();
  if (status === 301) return `301 ${(location ?? "").replace(/^https?:\/\/[^/]+/, "")}`;
  return String(status);
}

/** The raw HTTP request for a corpus entry. */
export function requestText(request: CorpusRequest): string {
  if (request.host === null) {
    return `GET ${request.path} HTTP/1.0\r\nUser-Agent: lbsync-test\r\n\r\n`;
  }
  return `GET ${request.path} HTTP/1.1\r\nHost: ${request.host}\r\nConnection: close\r\n` +
    `User-Agent: lbsync-test\r\n\r\n`;
}
