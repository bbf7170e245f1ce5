/**
 * Which HAProxy config changes the runtime API can apply (pure), and the parsers of its
 * answers, on text captured from HAProxy 2.6.
 */
import assert from "node:assert/strict";
import { planServerChanges } from "./config_servers.ts";
import { runtimeOptions } from "./runtime_apply.ts";
import { parseServersState, parseSessions } from "./runtime_api.ts";
import { buildModel, render, templates } from "../../mod.ts";
import { container, resetContainers } from "../../tests/support/fixtures.ts";

function haproxy(...names: [string, Record<string, string>?][]): string {
  resetContainers();
  const containers = names.map(([name, labels]) =>
    container(name, { "lbsync.service": "app", "lbsync.health": "/ok", ...labels })
  );
  return render(templates.haproxy, buildModel(containers, { haproxySocket: "/run/a.sock" }).model);
}

Deno.test("plan: servers added, removed and re-weighted are runtime changes", () => {
  const before = haproxy(["a"], ["b"]);
  const after = haproxy(["a", { "lbsync.weight": "5" }], ["b"], ["c"]);
  const plan = planServerChanges(before, after);
  assert.ok(plan.runtime);
  assert.deepEqual(
    plan.changes.map((c) => `${c.kind} ${c.server.backend}/${c.server.name}`),
    ["weight lbsync_app/a", "add lbsync_app/c"],
  );
  const removal = planServerChanges(after, haproxy(["c"]));
  assert.ok(removal.runtime);
  // additions and changes first, removals last: a replaced server never leaves none
  assert.deepEqual(removal.changes.map((c) => `${c.kind} ${c.server.name}`), [
    "address c",
    "remove a",
    "remove b",
  ]);
});

Deno.test("plan: a new service, host or path needs a reload, with the line that differs", () => {
  const before = haproxy(["a"]);
  const plan = planServerChanges(before, haproxy(["a", { "lbsync.host": "x.test" }]));
  assert.equal(plan.runtime, false);
  assert.match(!plan.runtime ? plan.reason : "", /^structure changed: ".*x\.test/);
  const other = planServerChanges(
    before,
    haproxy(["a"], ["b", { "lbsync.service": "other", "lbsync.path": "/o" }]),
  );
  assert.equal(other.runtime, false);
});

Deno.test("plan: changed server options, host names and duplicate names need a reload", () => {
  const head = "global\nbackend app\n    mode http\n";
  const line = (s: string) => `${head}    server ${s}\n`;
  const cases: [string, string, RegExp][] = [
    ["a 10.0.0.2:80 weight 1", "a 10.0.0.2:80 weight 1 backup", /options changed/],
    ["a 10.0.0.2:80", "a db.internal:80", /host name/],
    ["a 10.0.0.2:80", "a 10.0.0.2:80 weight 300", /weight/],
  ];
  for (const [from, to, why] of cases) {
    const plan = planServerChanges(line(from), line(to));
    assert.equal(plan.runtime, false, to);
    assert.match(!plan.runtime ? plan.reason : "", why);
  }
  const twice = `${head}    server a 10.0.0.2:80\n    server a 10.0.0.3:80\n`;
  assert.equal(planServerChanges(line("a 10.0.0.2:80"), twice).runtime, false);
  // server lines outside backends (peers) are structure
  const peers = (ip: string) => `peers p\n    server a ${ip}:1024\n`;
  assert.equal(planServerChanges(peers("10.0.0.1"), peers("10.0.0.2")).runtime, false);
});

Deno.test("plan: IPv6 servers and the options a runtime-added server gets", () => {
  const head = "backend app\n    mode http\n";
  const plan = planServerChanges(head, `${head}    server a [fd00::2]:8080 weight 2 check\n`);
  assert.ok(plan.runtime);
  const [change] = plan.changes;
  assert.equal(change.server.address, "[fd00::2]");
  assert.equal(
    runtimeOptions(change.server),
    "weight 2 check pool-max-conn -1 pool-purge-delay 5s",
  );
  assert.equal(
    runtimeOptions({ ...change.server, options: "pool-max-conn 10 pool-purge-delay 1s" }),
    "pool-max-conn 10 pool-purge-delay 1s",
  );
});

Deno.test("runtime API answers: show servers state and show stat", () => {
  const state = parseServersState(
    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n" +
      "3 app 1 s1 127.0.0.1 2 0 1 1 1 15 3 3 6 0 0 0 - 9101 - 0 0 - - 0\n" +
      "3 app 2 s2 ::1 0 8 4 3 0 1 0 0 2 0 0 0 - 9102 - 0 0 - - 0\n",
  );
  assert.deepEqual(state.map((s) => [s.name, s.address, s.port, s.admin, s.weight]), [
    ["s1", "127.0.0.1", 9101, 0, 1],
    ["s2", "::1", 9102, 8, 4],
  ]);
  assert.throws(() => parseServersState("Unknown command"), /Unexpected answer/);
  const sessions = parseSessions(
    "# pxname,svname,qcur,qmax,scur,smax\nf,FRONTEND,,,3,9\napp,s1,0,0,2,5\napp,BACKEND,0,0,2,5\n",
  );
  assert.deepEqual([...sessions], [["app/s1", 2]]);
});
