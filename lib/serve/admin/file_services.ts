/**
 * The admin API's services kept in the config file (`--config`): an edit is validated, written
 * atomically, applied, and undone when the apply fails.
 *
 * @module
 */
import { parseConfigFile } from "../../settings/config_file.ts";
import { errorMessage } from "../../core/errors.ts";
import { isObject, parseJson } from "../../core/util/json_access.ts";
import { writeFileAtomic } from "../../apply/write_file.ts";
import { AdminError, type ConfigDocument } from "./config_edits.ts";

/** Where the admin API reads and changes its services. */
export interface ServiceBackend {
  /** The document whose `services` the API shows. */
  read(): Promise<ConfigDocument>;
  /**
   * Makes `edit`, applies it, and resolves with the document after it once applied.
   *
   * @throws {AdminError} with the status to answer (400 invalid, 409 conflict, 422 not
   *   applied, 503 store unreachable)
   */
  change(edit: (doc: ConfigDocument) => ConfigDocument): Promise<ConfigDocument>;
}

/** The services of config file `path`; `apply` applies it and resolves with a failure. */
export function fileServices(
  path: string,
  apply: () => Promise<string | undefined>,
): ServiceBackend {
  return {
    read: async () => documentOf(await Deno.readTextFile(path), path),
    async change(edit) {
      const before = await Deno.readTextFile(path);
      const next = edit(documentOf(before, path));
      const text = `${JSON.stringify(next, null, 2)}\n`;
      try {
        parseConfigFile(text, path);
      } catch (error) {
        throw new AdminError(400, errorMessage(error));
      }
      await writeFileAtomic(path, text);
      const failure = await apply();
      if (failure === undefined) return next;
      await writeFileAtomic(path, before);
      await apply();
      throw new AdminError(422, `not applied, the config file is restored: ${failure}`);
    },
  };
}

function documentOf(text: string, path: string): ConfigDocument {
  let doc: unknown;
  try {
    doc = parseJson(text);
  } catch (error) {
    throw new AdminError(409, `config ${path} is not valid JSON (${errorMessage(error)})`);
  }
  if (!isObject(doc)) throw new AdminError(409, `config ${path} is not a JSON object`);
  return doc;
}
