/**
 * Targets: a template (built-in name or file) and where its output goes.
 *
 * @module
 */
import { sha1 } from "../core/util/sha1.ts";
import { readInputFile } from "../sources/files.ts";
import { ConfigError, fileErrorReason } from "../core/errors.ts";
import { parseTemplate, render } from "../core/render/render.ts";
import { isTemplateName, templates } from "../core/render/templates.ts";
import { crtListText, needsCrtList } from "../core/render/crt_list.ts";
import type { Model } from "../core/types.ts";

/** One output: a template and the file it renders to (`-` = standard output). */
export interface Target {
  /** Built-in name (`nginx`, `nginx-stream`, `haproxy`) or a template file path. */
  template: string;
  /** Output path, or `-` for standard output. */
  output: string;
  /** Check command (`{}`: the candidate file, checked before the swap). */
  check?: string;
  /** Reload command after a changed, checked apply. */
  reload?: string;
  /** HAProxy runtime API socket: server-only changes go through it, without a reload. */
  haproxySocket?: string;
}

/** A target with its template text loaded. */
export interface LoadedTarget extends Target {
  text: string;
}

/** A target with its rendered output. */
export interface RenderedTarget extends Target {
  /** The rendered text. */
  content: string;
  /**
   * Files the text names that lbsync writes beside the output before it is checked (HAProxy's
   * crt-list); each named by its content's hash, so it is never rewritten.
   */
  companions?: Companion[];
}

/** A file written beside an output: its path and content. */
export interface Companion {
  /** Where it goes. */
  path: string;
  /** What it holds. */
  content: string;
}

/**
 * The most certificates an HAProxy `bind` line names one by one: a line holds at most 64
 * words (HAProxy's MAX_LINE_ARGS), two per `crt`. Beyond, they go to a crt-list file.
 */
export const HAPROXY_CRT_WORDS_LIMIT = 20;

/**
 * Loads the template of each target: a built-in by name, else a file (a path has a `/` or
 * a `.`). Each template is parsed once here, so a broken one fails before anything is
 * written.
 *
 * @throws {ConfigError} for an unknown name, an unreadable file or a template that does not parse
 */
export async function loadTargets(
  targets: Target[],
  readTextFile: (path: string) => Promise<string> = readInputFile,
): Promise<LoadedTarget[]> {
  const loaded: LoadedTarget[] = [];
  const outputs = new Map<string, string>();
  for (const target of targets) {
    if (target.output !== "-") {
      const key = normalizeOutput(target.output);
      const earlier = outputs.get(key);
      if (earlier !== undefined) {
        throw new ConfigError(
          `Output ${target.output} is named twice (also as ${earlier}): one file, one target`,
        );
      }
      outputs.set(key, target.output);
    }
    const text = await loadTemplate(target.template, readTextFile);
    parseTemplate(text, target.template);
    loaded.push({ ...target, text });
  }
  return loaded;
}

/** `path` absolute, with `.`, `..` and repeated slashes resolved (no file-system access). */
export function normalizeOutput(path: string): string {
  const absolute = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  const parts: string[] = [];
  for (const part of absolute.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

async function loadTemplate(
  spec: string,
  readTextFile: (path: string) => Promise<string>,
): Promise<string> {
  if (isTemplateName(spec)) return templates[spec];
  if (!spec.includes("/") && !spec.includes(".")) {
    throw new ConfigError(
      `Unknown template ${JSON.stringify(spec)}: built-ins are ${
        Object.keys(templates).join(", ")
      }; a file path needs a / or an extension`,
    );
  }
  try {
    return await readTextFile(spec);
  } catch (error) {
    const why = fileErrorReason(error);
    throw new ConfigError(`Cannot read template ${spec}: ${why}`, { cause: error });
  }
}

/**
 * Renders every target with `model`.
 *
 * @throws {ConfigError} naming the template that failed
 */
export function renderTargets(targets: LoadedTarget[], model: Model): RenderedTarget[] {
  return targets.map(({ text, ...target }) => {
    const crtList = text.includes("crtList") ? crtListOf(model, target.output) : undefined;
    const extra = crtList ? { crtList: crtList.path } : undefined;
    return {
      ...target,
      content: render(text, model, { name: target.template, extra }),
      ...(crtList ? { companions: [crtList] } : {}),
    };
  });
}

/**
 * The crt-list beside `output` for a model whose HTTPS listener has more certificates than a
 * `bind` line holds, or a host that asks client certificates (`crt_list.ts`). None for `-`.
 */
function crtListOf(model: Model, output: string): Companion | undefined {
  if (output === "-" || !needsCrtList(model, HAPROXY_CRT_WORDS_LIMIT)) return undefined;
  const content = crtListText(model);
  const hash = sha1(content).slice(0, 16);
  return { path: `${crtListPrefix(output)}${hash}`, content };
}

/** Where the crt-lists of `output` go: `DIR/.NAME.crt-list.` and their content's hash. */
export function crtListPrefix(output: string): string {
  const slash = output.lastIndexOf("/");
  return `${output.slice(0, slash + 1)}.${output.slice(slash + 1)}.crt-list.`;
}
