/**
 * ACME in watch mode: the challenge server the balancer forwards
 * `/.well-known/acme-challenge/` to, and the manager that orders certificates for the hosts
 * of each pass's model.
 *
 * @module
 */
import { AcmeManager, type AcmeReport } from "../acme/acme_manager.ts";
import { serveChallenges } from "../acme/challenge_server.ts";
import { acmeHosts } from "../core/model/tls.ts";
import { systemClock } from "../watch/clock.ts";
import type { Clock } from "../core/util/clock.ts";
import type { WatchObserver, WatchOptions } from "../watch/watch.ts";

/** A running ACME service. */
export interface AcmeService {
  /** `HOST:PORT` of the challenge server, for the model (`acmeChallenge`). */
  challengeAddress: string;
  /** Feeds each pass's hosts to the manager. */
  observer: WatchObserver;
  /** Stops ordering and the challenge server. */
  close(): Promise<void>;
}

/** Starts the challenge server and the manager for `options` (`acmeDirectory`, `certDir`). */
export function startAcme(
  options: WatchOptions,
  report: AcmeReport,
  clock: Clock = systemClock,
): AcmeService {
  const challenges = serveChallenges(options.acmeListen ?? "0");
  const manager = new AcmeManager({
    directoryUrl: options.acmeDirectory!,
    email: options.acmeEmail,
    caFile: options.acmeCaFile,
    certDir: options.certDir!,
    challenges,
    clock,
    report,
  });
  return {
    challengeAddress: challenges.address,
    observer: { built: (result) => manager.want(acmeHosts(result.model)) },
    async close() {
      manager.stop();
      await challenges.close();
    },
  };
}
