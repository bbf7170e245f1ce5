/**
 * The operator's files of nginx-proxy's conventions: the htpasswd directory, the vhost
 * directory and `proxy.conf`. Lists them with the versions of their content; the model
 * decides which applies where (core/model/operator_files.ts).
 *
 * @module
 */
import { fileErrorReason, isNotFound, LbsyncError } from "../core/errors.ts";
import type { OperatorFiles } from "../core/types.ts";
import { fileVersion } from "./file_version.ts";

/** Where the operator's files are; each is optional. */
export interface OperatorFilePaths {
  /** nginx-proxy's `/etc/nginx/htpasswd`. */
  htpasswdDir?: string;
  /** nginx-proxy's `/etc/nginx/vhost.d`. */
  vhostDir?: string;
  /** nginx-proxy's `/etc/nginx/proxy.conf`. */
  proxyConf?: string;
  /** nginx-proxy's `/etc/nginx/dhparam/dhparam.pem`. */
  dhparam?: string;
  /** nginx-proxy's `/usr/share/nginx/html/errors/50x.html`. */
  errorPage?: string;
  /** nginx-proxy's `/etc/nginx/network_internal.conf`. */
  networkInternalConf?: string;
}

/** A name the model may pick: no `/`, no leading dot, nothing a config would misread. */
const FILE_NAME = /^[A-Za-z0-9*][A-Za-z0-9*._-]{0,300}$/;

/**
 * Reads the operator's files: each directory's regular files by name (others ignored), and
 * `proxyConf`, `dhparam`, `errorPage` and `networkInternalConf` when they exist. `undefined` when no path
 * is set.
 *
 * @throws {LbsyncError} when a directory cannot be read
 */
export async function readOperatorFiles(
  paths: OperatorFilePaths,
): Promise<OperatorFiles | undefined> {
  const { htpasswdDir, vhostDir, proxyConf, dhparam, errorPage, networkInternalConf } = paths;
  if (
    [htpasswdDir, vhostDir, proxyConf, dhparam, errorPage, networkInternalConf]
      .every((p) => p === undefined)
  ) {
    return undefined;
  }
  const files: OperatorFiles = {};
  if (htpasswdDir !== undefined) {
    files.htpasswdDir = htpasswdDir;
    files.htpasswd = await listDirectory(htpasswdDir, "htpasswd directory");
  }
  if (vhostDir !== undefined) {
    files.vhostDir = vhostDir;
    files.vhost = await listDirectory(vhostDir, "vhost directory");
  }
  if (proxyConf !== undefined) {
    const version = await fileVersion(proxyConf);
    if (version !== "") files.proxyConf = { path: proxyConf, version };
  }
  if (dhparam !== undefined) {
    const version = await fileVersion(dhparam);
    if (version !== "") files.dhparam = { path: dhparam, version };
  }
  if (networkInternalConf !== undefined) {
    const version = await fileVersion(networkInternalConf);
    if (version !== "") files.networkInternalConf = { path: networkInternalConf, version };
  }
  if (errorPage !== undefined) {
    const version = await fileVersion(errorPage);
    const bytes = version === "" ? 0 : (await Deno.stat(errorPage).catch(() => undefined))?.size;
    if (version !== "" && bytes !== undefined) {
      files.errorPage = { path: errorPage, version, bytes };
    }
  }
  return files;
}

/** The regular files of `dir` whose names the model may use, with their versions. */
async function listDirectory(dir: string, what: string): Promise<Map<string, string>> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (FILE_NAME.test(entry.name) && !entry.isDirectory) names.push(entry.name);
    }
  } catch (error) {
    if (isNotFound(error)) return new Map();
    throw new LbsyncError(`Cannot read the ${what} ${dir}: ${fileErrorReason(error)}`);
  }
  const out = new Map<string, string>();
  for (const name of names.sort()) {
    const version = await fileVersion(`${dir}/${name}`);
    if (version !== "") out.set(name, version);
  }
  return out;
}
