/**
 * The admin API's services kept in etcd (`--store`): every edit is one transaction conditioned
 * on the mod revision of each key it touches, so two instances editing at once never lose a
 * change: the loser reads again and redoes its edit on what won (a bounded number of times,
 * then 409). The answer comes once this instance has applied the change; an apply the balancer
 * refuses is undone by a second transaction (422).
 *
 * @module
 */
import { errorMessage } from "../../core/errors.ts";
import { servicesOfEntries, storeChange } from "../../core/input/store_entries.ts";
import { type EtcdClient, type StoreEntry, StoreError } from "../../sources/etcd_client.ts";
import { AdminError, servicesOf } from "./config_edits.ts";
import type { ServiceBackend } from "./file_services.ts";

/** How many times an edit is redone after losing to a concurrent one before 409. */
export const EDIT_ATTEMPTS = 8;

/** What the store backend works with. */
export interface StoreBackendSettings {
  /** The store's client: a read of the prefix and transactions. */
  client: Pick<EtcdClient, "range" | "txn">;
  /** The key prefix of the services, `/` last. */
  prefix: string;
  /** Brings this instance's view of the store up to date (a full read). */
  catchUp(): Promise<unknown>;
  /** Applies the services in force now; resolves with the reason when it failed. */
  apply(): Promise<string | undefined>;
}

/** The admin API's services in the store. */
export function storeServices(settings: StoreBackendSettings): ServiceBackend {
  const { client, prefix } = settings;
  const snapshot = async () => {
    const { entries } = await reach(() => client.range(prefix));
    return { entries, documents: servicesOfEntries(prefix, entries).documents };
  };
  return {
    read: async () => ({ services: (await snapshot()).documents }),
    async change(edit) {
      for (let attempt = 1; attempt <= EDIT_ATTEMPTS; attempt++) {
        const { entries, documents } = await snapshot();
        const next = edit({ services: documents });
        const wanted = servicesOf(next);
        const change = storeChange(prefix, entries, documents, wanted);
        if (change.ops.length === 0) return next;
        const done = await reach(() => client.txn(change.compares, change.ops));
        if (!done.succeeded) {
          // another instance changed a key first: redo the edit on what it wrote
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
          continue;
        }
        await reach(settings.catchUp);
        const failure = await settings.apply();
        if (failure === undefined) return next;
        const restored = await undo(settings, change.ops, done.revision, wanted, documents);
        throw new AdminError(422, `not applied, ${restored}: ${failure}`);
      }
      throw new AdminError(
        409,
        `the change lost to concurrent edits ${EDIT_ATTEMPTS} times: try again`,
      );
    },
  };
}

/** Puts back what the store held before an edit the balancer refused, unless changed since. */
async function undo(
  settings: StoreBackendSettings,
  ops: { key: string; value?: string }[],
  revision: number,
  wanted: Record<string, unknown>[],
  before: Record<string, unknown>[],
): Promise<string> {
  const written: StoreEntry[] = ops.filter((op) => op.value !== undefined)
    .map((op) => ({ key: op.key, value: op.value!, modRevision: revision }));
  const back = storeChange(settings.prefix, written, wanted, before);
  try {
    const done = await settings.client.txn(back.compares, back.ops);
    await settings.catchUp();
    await settings.apply();
    return done.succeeded ? "the store is restored" : "the store changed since and is left as is";
  } catch (error) {
    return `the store could not be restored (${errorMessage(error)})`;
  }
}

/** Runs a store request; an unreachable store answers 503, a refusal 502. */
async function reach<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    throw new AdminError(error.unreachable ? 503 : 502, `store: ${error.message}`);
  }
}
