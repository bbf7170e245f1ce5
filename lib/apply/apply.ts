/**
 * Applying rendered output safely: write only what changed, check before (or after) the
 * swap, roll back on a failed check, back up what is replaced, reload once per command.
 *
 * @module
 */
import { DEFAULTS } from "../core/defaults.ts";
import { ApplyError, errorMessage } from "../core/errors.ts";
import {
  dirname,
  readLive,
  removeStaleTemps,
  resolveOutput,
  type StagedFile,
  stageFile,
  writeFileAtomic,
} from "./write_file.ts";
import type { RuntimeApplier, RuntimeOutcome } from "./runtime.ts";
import { backupFile } from "./backup.ts";
import {
  checksCandidate,
  type CommandResult,
  describeFailure,
  runCommand,
  substitutePath,
} from "./command.ts";
import { acquireLock, type Lock } from "./lock.ts";
import { crtListPrefix } from "./targets.ts";
import { readGeneration } from "../core/util/generation.ts";
import {
  busyNewPorts,
  confirmGeneration,
  type ConfirmOutcome,
  type GenerationAddress,
  listenPortsOf,
} from "./confirm_reload.ts";

/** One output to apply. */
export interface ApplyTarget {
  /** Template name or path, for reports. */
  template: string;
  /** Output file. */
  output: string;
  /** Rendered content. */
  content: string;
  /** Check command: with `{}` it validates the candidate before the swap, else after it. */
  check?: string;
  /** Reload command, run once per apply after a changed, checked write. */
  reload?: string;
  /**
   * HAProxy runtime API socket: a change of servers only is applied through it instead of
   * the reload command (which still runs for other changes, or when the runtime API fails).
   */
  haproxySocket?: string;
  /**
   * Where the balancer serves the generation of the file it runs: after a reload, lbsync
   * waits until it is the new file's (see `confirmGeneration`), else the apply fails.
   */
  confirm?: GenerationAddress;
  /**
   * Files the content names, written beside the output before it is checked; each is named
   * by its content's hash, so one in place is never rewritten (HAProxy's crt-list).
   */
  companions?: { path: string; content: string }[];
}

/** How to apply. */
export interface ApplySettings {
  /** Copies of replaced files go here. */
  backupDir?: string;
  /** Newest backups kept per file, default 10. */
  keepBackups?: number;
  /** Write nothing; report a unified diff per target. */
  dryRun?: boolean;
  /** Timeout of each check and reload command, default 30 s. */
  commandTimeoutMs?: number;
  /** How long to wait for another run's lock, default 30 s. */
  lockTimeoutMs?: number;
  /** Called once after the reload commands of a changed apply (e.g. signal a container). */
  notify?: () => Promise<string>;
  /**
   * Applies server changes of targets with `haproxySocket` without a reload (e.g. a
   * `HaproxyRuntime`); without one, those targets reload like the others.
   */
  haproxy?: RuntimeApplier;
  /** How long a reload may take to show (targets with `confirm`), default 10 s; 0: no wait. */
  confirmTimeoutMs?: number;
  /**
   * When nothing changed, run each target's check on its live file anyway (the quarantine
   * asks whether the balancer still accepts the last good config).
   */
  checkUnchanged?: boolean;
}

/** What happened to one target. */
export interface TargetReport {
  /** Template name or path. */
  template: string;
  /** Output file. */
  output: string;
  /** The rendered bytes differ from the live file. */
  changed: boolean;
  /** Unified diff against the live file (dry run only). */
  diff?: string;
  /** Path of the backup made of the replaced file. */
  backup?: string;
  /** What the HAProxy runtime API did, for a target with `haproxySocket` that changed. */
  runtime?: RuntimeOutcome;
  /** Whether the balancer was seen running the new file after the reload. */
  confirmed?: ConfirmOutcome;
}

/** What {@link applyTargets} did. */
export interface ApplyReport {
  /** Each target, in order. */
  targets: TargetReport[];
  /** Check commands run, in order. */
  checks: CommandResult[];
  /** Reload commands run, in order. */
  reloads: CommandResult[];
  /** What `notify` said, if it ran. */
  notified?: string;
}

const encoder = new TextEncoder();

/**
 * Applies every target as one unit: nothing is written when a candidate check fails, every
 * replaced file is restored byte for byte when a check after the swap fails, and reloads run
 * only after every write and check succeeded (each distinct command once).
 *
 * @throws {ApplyError} naming the output or command and the cause; the live files are then
 *   as they were (after a failed reload or one that did not take, restored)
 */
export async function applyTargets(
  targets: ApplyTarget[],
  given: ApplySettings = {},
  now: () => Date = () => new Date(),
): Promise<ApplyReport> {
  const settings = finalizeApplySettings(given);
  const locks = await lockOutputs(targets, settings);
  try {
    const live = new Map<string, Uint8Array | undefined>();
    for (const t of targets) live.set(t.output, await readLive(t.output));
    const changed = targets.filter((t) =>
      !sameBytes(live.get(t.output), encoder.encode(t.content))
    );
    const report: ApplyReport = {
      targets: targets.map((t) => ({
        template: t.template,
        output: t.output,
        changed: changed.includes(t),
      })),
      checks: [],
      reloads: [],
    };
    if (settings.dryRun) return await withDiffs(report, targets, live);
    if (changed.length === 0) {
      if (settings.checkUnchanged) await checkLive(targets, report, settings);
      return report;
    }
    const run: ApplyRun = {
      changed,
      live,
      report,
      settings,
      now,
    };
    await writeCompanions(changed);
    const staged = await stageAndCheck(run);
    await commitAndCheck(run, staged);
    const reloading = await applyAtRuntime(changed, live, report, settings.haproxy);
    await reload(run, reloading);
    await confirmOrRestore(run, reloading, targets);
    await pruneCompanions(changed);
    return report;
  } finally {
    await Promise.all(locks.map((l) => l.release()));
  }
}

/** Writes each companion file that is not in place yet (its name is its content's hash). */
async function writeCompanions(targets: ApplyTarget[]): Promise<void> {
  for (const c of targets.flatMap((t) => t.companions ?? [])) {
    const exists = await Deno.lstat(c.path).then(() => true, () => false);
    if (exists) continue;
    try {
      await writeFileAtomic(c.path, encoder.encode(c.content));
    } catch (error) {
      throw new ApplyError(`Cannot write ${c.path}: ${errorMessage(error)}`, { cause: error });
    }
  }
}

/** After an apply that took, removes the companions of its outputs that no file names now. */
async function pruneCompanions(targets: ApplyTarget[]): Promise<void> {
  for (const t of targets) {
    const prefix = crtListPrefix(t.output);
    const dir = dirname(t.output);
    const keep = new Set((t.companions ?? []).map((c) => c.path));
    try {
      for await (const entry of Deno.readDir(dir)) {
        const path = dir === "." ? entry.name : `${dir.replace(/\/$/, "")}/${entry.name}`;
        if (path.startsWith(prefix) && !keep.has(path)) await Deno.remove(path);
      }
    } catch {
      // a companion left behind costs a file, not a config
    }
  }
}

/** One apply in progress: what changed, the live bytes before it, and its report. */
interface ApplyRun {
  changed: ApplyTarget[];
  live: Map<string, Uint8Array | undefined>;
  report: ApplyReport;
  settings: FinalApplySettings;
  now: () => Date;
}

/** The settings with a default, filled in. */
type Defaulted = "keepBackups" | "commandTimeoutMs" | "lockTimeoutMs" | "confirmTimeoutMs";

/** {@link ApplySettings} with every default applied, once. */
type FinalApplySettings = Readonly<ApplySettings & Required<Pick<ApplySettings, Defaulted>>>;

function finalizeApplySettings(settings: ApplySettings): FinalApplySettings {
  return {
    ...settings,
    keepBackups: settings.keepBackups ?? DEFAULTS.keepBackups,
    commandTimeoutMs: settings.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs,
    lockTimeoutMs: settings.lockTimeoutMs ?? DEFAULTS.lockTimeoutMs,
    confirmTimeoutMs: settings.confirmTimeoutMs ?? DEFAULTS.confirmTimeoutMs,
  };
}

/** Locks every output (in path order, so two runs cannot deadlock) and clears stale temps. */
async function lockOutputs(
  targets: ApplyTarget[],
  settings: FinalApplySettings,
): Promise<Lock[]> {
  const locks: Lock[] = [];
  try {
    for (const output of [...new Set(targets.map((t) => t.output))].sort()) {
      // an output that is not a regular file is refused before its lock file is made beside it
      await resolveOutput(output);
      locks.push(await acquireLock(output, { timeoutMs: settings.lockTimeoutMs }));
      await removeStaleTemps(output);
    }
    return locks;
  } catch (error) {
    await Promise.all(locks.map((l) => l.release()));
    throw error;
  }
}

/** A dry run's report: each target's diff against its live file (the differ loads here). */
async function withDiffs(
  report: ApplyReport,
  targets: ApplyTarget[],
  live: Map<string, Uint8Array | undefined>,
): Promise<ApplyReport> {
  const { unifiedDiff } = await import("../core/util/diff.ts");
  const decoder = new TextDecoder();
  for (const [i, t] of targets.entries()) {
    const before = live.get(t.output);
    report.targets[i].diff = unifiedDiff(t.output, before && decoder.decode(before), t.content);
  }
  return report;
}

/**
 * Stages every changed file beside its output, checks each candidate, and backs up the live
 * files. On any failure the staged files are discarded and nothing live has changed.
 */
async function stageAndCheck(run: ApplyRun): Promise<StagedFile[]> {
  const staged = await stageAll(run.changed);
  try {
    for (const [i, t] of run.changed.entries()) {
      if (t.check && checksCandidate(t.check)) {
        await runCheck(
          run,
          substitutePath(t.check, staged[i].temp),
          `Check failed for ${t.output}`,
        );
      }
    }
    await backUp(run);
    return staged;
  } catch (error) {
    await Promise.all(staged.map((s) => s.discard()));
    throw error;
  }
}

async function backUp(run: ApplyRun): Promise<void> {
  const { backupDir, keepBackups } = run.settings;
  if (!backupDir) return;
  for (const t of run.changed) {
    const before = run.live.get(t.output);
    if (before === undefined) continue;
    const keep = keepBackups;
    const backup = await backupFile(t.output, before, backupDir, keep, run.now());
    run.report.targets.find((r) => r.output === t.output)!.backup = backup;
  }
}

/** Runs every target's check on the live file (a candidate check gets the live path). */
async function checkLive(
  targets: ApplyTarget[],
  report: ApplyReport,
  settings: FinalApplySettings,
): Promise<void> {
  const run = { report, settings };
  for (
    const command of distinct(
      targets.flatMap((t) =>
        t.check ? [checksCandidate(t.check) ? substitutePath(t.check, t.output) : t.check] : []
      ),
    )
  ) {
    await runCheck(run, command, "Check failed for the live config");
  }
}

/** Runs a check command; a failure is an {@link ApplyError} starting with `failed`. */
async function runCheck(
  run: Pick<ApplyRun, "report" | "settings">,
  command: string,
  failed: string,
  after = "",
): Promise<void> {
  const result = await runCommand(command, run.settings.commandTimeoutMs);
  run.report.checks.push(result);
  if (result.code !== 0) {
    throw new ApplyError(
      `${failed}: ${describeFailure(result, run.settings.commandTimeoutMs)}${after}`,
      {
        step: "check",
      },
    );
  }
}

/**
 * Swaps the staged files in, then runs the checks that read the live files. On any failure
 * every replaced file is restored byte for byte, and this apply's backups are removed.
 */
async function commitAndCheck(run: ApplyRun, staged: StagedFile[]): Promise<void> {
  const committed: ApplyTarget[] = [];
  try {
    for (const [i, t] of run.changed.entries()) {
      await staged[i].commit();
      committed.push(t);
    }
    for (const command of distinct(run.changed.map((t) => t.check).filter(isLiveCheck))) {
      const failed = `Check failed after writing ${changedOutputs(run.changed)}`;
      await runCheck(run, command, failed, "; previous files restored");
    }
  } catch (error) {
    await Promise.all(staged.map((s) => s.discard()));
    const unrestored = await restore(committed, run.live);
    // the live files are as before: backups of them from this apply are noise
    for (const r of run.report.targets) {
      if (r.backup) await Deno.remove(r.backup).catch(() => {});
      delete r.backup;
    }
    if (unrestored.length === 0) throw error;
    throw new ApplyError(
      `${errorMessage(error)}; but could not restore ${unrestored.join("; ")}`,
      { cause: error, step: error instanceof ApplyError ? error.step : "write" },
    );
  }
}

/**
 * Runs each distinct reload command of `reloading` once, then `notify`. When a reload fails,
 * the previous files are put back: the balancer runs them still, and the next apply finds
 * the change again and retries it (a new file left in place would read as applied).
 */
async function reload(run: ApplyRun, reloading: ApplyTarget[]): Promise<void> {
  for (const command of distinct(reloading.map((t) => t.reload).filter(isSet))) {
    const result = await runCommand(command, run.settings.commandTimeoutMs);
    run.report.reloads.push(result);
    if (result.code !== 0) {
      const unrestored = await restore(run.changed, run.live);
      throw new ApplyError(
        `Reload failed: ${describeFailure(result, run.settings.commandTimeoutMs)}; ` +
          restoredNote(unrestored),
        { step: "reload" },
      );
    }
  }
  if (!run.settings.notify || reloading.length === 0) return;
  try {
    run.report.notified = await run.settings.notify();
  } catch (error) {
    throw new ApplyError(errorMessage(error), { cause: error });
  }
}

/**
 * Confirms that each reloaded balancer runs its new generation; when one still runs the
 * old, the previous files are put back (so the next apply tries again) and the apply fails.
 */
async function confirmOrRestore(
  run: ApplyRun,
  reloading: ApplyTarget[],
  all: ApplyTarget[],
): Promise<void> {
  const timeoutMs = run.settings.confirmTimeoutMs;
  const stale = await confirmReloads(reloading, all, run.live, run.report, timeoutMs);
  if (stale.length === 0) return;
  const unrestored = await restore(run.changed, run.live);
  throw new ApplyError(
    `Reload did not take: ${stale.join("; ")}; ` + restoredNote(unrestored),
    { step: "stale" },
  );
}

/**
 * Waits until each reloaded balancer that serves its generation runs the new file. Returns
 * one line for each that still runs another generation, naming a new port that something
 * else holds when there is one.
 */
async function confirmReloads(
  reloaded: ApplyTarget[],
  all: ApplyTarget[],
  live: Map<string, Uint8Array | undefined>,
  report: ApplyReport,
  timeoutMs: number,
): Promise<string[]> {
  const stale: string[] = [];
  if (timeoutMs <= 0) return stale;
  // each output's generation, read once (a text may be a megabyte)
  const generations = new Map(all.map((t) => [t, t.confirm && readGeneration(t.content)]));
  const serving = (t: ApplyTarget) => generations.get(t) !== undefined;
  const at = (t: ApplyTarget) => `${t.confirm!.hostname}:${t.confirm!.port}`;
  for (const t of reloaded.filter((t) => serving(t) && t.reload)) {
    const expected = generations.get(t)!;
    const entry = report.targets.find((r) => r.output === t.output)!;
    // two balancers of this run answer on one address: which one answered is unknown
    if (all.some((other) => other !== t && serving(other) && at(other) === at(t))) {
      entry.confirmed = { kind: "unconfirmed", reason: `several outputs answer on ${at(t)}` };
      continue;
    }
    const before = new TextDecoder().decode(live.get(t.output) ?? new Uint8Array());
    // a port the old file did not listen on is bound by the reload itself: give the balancer
    // time to answer there; on a port it listened on already, no answer means no balancer
    const newPort = !listenPortsOf(before).has(t.confirm!.port);
    const outcome = await confirmGeneration(expected, t.confirm!, timeoutMs, undefined, newPort);
    entry.confirmed = outcome;
    if (outcome.kind !== "stale") continue;
    const busy = busyNewPorts(before, t.content, t.confirm!.hostname);
    stale.push(
      `${t.output}: the balancer at ${at(t)} still runs ` +
        `generation ${outcome.running}, not ${expected}` +
        (busy.length > 0 ? ` (port ${busy.join(", ")} is held by another process)` : ""),
    );
  }
  return stale;
}

/**
 * Applies the targets that have a HAProxy runtime socket through it, and returns the
 * targets that still need their reload command.
 */
async function applyAtRuntime(
  changed: ApplyTarget[],
  live: Map<string, Uint8Array | undefined>,
  report: ApplyReport,
  runtime: RuntimeApplier | undefined,
): Promise<ApplyTarget[]> {
  const reloading: ApplyTarget[] = [];
  for (const t of changed) {
    if (t.haproxySocket && runtime) {
      const before = live.get(t.output);
      const outcome = await runtime.apply(
        t.haproxySocket,
        before && new TextDecoder().decode(before),
        t.content,
      );
      report.targets.find((r) => r.output === t.output)!.runtime = outcome;
      if (outcome.applied) continue;
    }
    reloading.push(t);
  }
  return reloading;
}

async function stageAll(targets: ApplyTarget[]): Promise<StagedFile[]> {
  const staged: StagedFile[] = [];
  try {
    for (const t of targets) staged.push(await stageFile(t.output, encoder.encode(t.content)));
    return staged;
  } catch (error) {
    await Promise.all(staged.map((s) => s.discard()));
    throw error;
  }
}

/**
 * Puts back the bytes each output had before (removes outputs that did not exist).
 * Returns what could not be restored, with the cause.
 */
async function restore(
  targets: ApplyTarget[],
  live: Map<string, Uint8Array | undefined>,
): Promise<string[]> {
  const failures: string[] = [];
  for (const t of targets) {
    const before = live.get(t.output);
    try {
      if (before === undefined) await Deno.remove(t.output);
      else await writeFileAtomic(t.output, before);
    } catch (error) {
      failures.push(`${t.output}: ${errorMessage(error)}`);
    }
  }
  return failures;
}

/** What putting the previous files back came to, for an error message. */
function restoredNote(unrestored: string[]): string {
  return unrestored.length === 0
    ? "previous files restored"
    : `could not restore ${unrestored.join("; ")}`;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function distinct(commands: string[]): string[] {
  return [...new Set(commands)];
}

function isSet(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}

function isLiveCheck(command: string | undefined): command is string {
  return isSet(command) && !checksCandidate(command);
}

function changedOutputs(targets: ApplyTarget[]): string {
  return targets.map((t) => t.output).join(", ");
}
