/**
 * The etcd client against fake members: a member that refuses, has no leader or is too slow is
 * skipped and the next asked; a refused auth token is renewed; every answer is bounded and
 * validated (not JSON, a bad revision, bad base64, an endless body, a watch line of garbage),
 * each failure one line naming the member.
 */
import assert from "node:assert/strict";
import { EtcdClient, StoreError, toBase64 } from "./etcd_client.ts";
import { freePort } from "../../tests/support/balancers.ts";

type Handler = (
  path: string,
  body: Record<string, unknown>,
  req: Request,
) => Response | Promise<Response>;

/** A fake member on 127.0.0.1; `requests` counts what it was asked. */
function member(handler: Handler) {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requests.push(path);
    return await handler(path, await req.json().catch(() => ({})), req);
  });
  return {
    endpoint: `127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

const header = { revision: "12" };
const kv = (key: string, value: string, rev = "11") => ({
  key: toBase64(key),
  value: toBase64(value),
  mod_revision: rev,
});
const good: Handler = () => Response.json({ header, kvs: [kv("/lb/web", "{}")] });

async function refusal(client: EtcdClient): Promise<StoreError> {
  try {
    await client.range("/lb/");
  } catch (error) {
    assert.ok(error instanceof StoreError, String(error));
    assert.doesNotMatch(error.message, /\n/);
    return error;
  }
  throw new Error("no failure");
}

Deno.test("etcd client: a refusing member, one without a leader and a slow one are skipped; the one that answered is asked first", async () => {
  const noLeader = member(() =>
    Response.json({ error: "etcdserver: no leader", message: "etcdserver: no leader", code: 14 }, {
      status: 503,
    })
  );
  const slow = member(async () => {
    await new Promise((r) => setTimeout(r, 1_000));
    return Response.json({ header });
  });
  const ok = member(good);
  try {
    const closed = `127.0.0.1:${freePort()}`;
    const client = new EtcdClient({
      endpoints: [closed, noLeader.endpoint, slow.endpoint, ok.endpoint],
      timeoutMs: 300,
    });
    const read = await client.range("/lb/");
    assert.deepEqual(read, {
      revision: 12,
      entries: [{ key: "/lb/web", value: "{}", modRevision: 11 }],
    });
    await client.range("/lb/");
    assert.equal(ok.requests.length, 2);
    assert.equal(noLeader.requests.length, 1, "asked once: the member that answered goes first");
    await client.close();

    const none = new EtcdClient({
      endpoints: [closed, noLeader.endpoint, slow.endpoint],
      timeoutMs: 300,
    });
    const error = await refusal(none);
    assert.equal(error.unreachable, true);
    assert.equal(
      error.message,
      `etcd unreachable: etcd ${closed}: connection refused; etcd ${noLeader.endpoint}: /v3/kv/range: 503: etcdserver: no leader; etcd ${slow.endpoint}: timed out after 300 ms`,
    );
    await none.close();
  } finally {
    await Promise.all([noLeader.close(), slow.close(), ok.close()]);
  }
});

Deno.test("etcd client: a refused auth token is renewed once; a wrong password is one line", async () => {
  let issued = 0;
  const fake = member((path, body, req) => {
    if (path === "/v3/auth/authenticate") {
      if (body.password !== "pw") {
        return Response.json({
          message: "etcdserver: authentication failed, invalid user ID or password",
          code: 3,
        }, {
          status: 400,
        });
      }
      return Response.json({ header, token: `token-${++issued}` });
    }
    if (req.headers.get("authorization") !== `token-${issued}` || issued < 2) {
      return Response.json({ message: "etcdserver: invalid auth token", code: 16 }, {
        status: 401,
      });
    }
    return good(path, body, req);
  });
  try {
    const client = new EtcdClient({ endpoints: [fake.endpoint], user: "root", password: "pw" });
    assert.equal((await client.range("/lb/")).entries.length, 1);
    assert.deepEqual(fake.requests, [
      "/v3/auth/authenticate",
      "/v3/kv/range",
      "/v3/auth/authenticate",
      "/v3/kv/range",
    ]);
    await client.close();
    const wrong = new EtcdClient({ endpoints: [fake.endpoint], user: "root", password: "nope" });
    const error = await refusal(wrong);
    assert.equal(error.unreachable, false);
    assert.equal(
      error.message,
      `etcd ${fake.endpoint}: cannot authenticate as root: etcdserver: authentication failed, invalid user ID or password`,
    );
    await wrong.close();
  } finally {
    await fake.close();
  }
});

Deno.test("etcd client: malformed and oversized answers are refused, not used", async () => {
  const answers: [string, () => Response, RegExp][] = [
    ["not JSON", () => new Response("<html>"), /a malformed \/v3\/kv\/range answer: not JSON/],
    ["an array", () => Response.json([1]), /a malformed \/v3\/kv\/range answer: not an object/],
    [
      "a bad revision",
      () => Response.json({ header: { revision: 12 } }),
      /a revision is not a number/,
    ],
    [
      "a huge revision",
      () => Response.json({ header: { revision: "1".repeat(30) } }),
      /a revision is not a number/,
    ],
    ["kvs not an array", () => Response.json({ header, kvs: {} }), /kvs is not an array/],
    [
      "bad base64",
      () => Response.json({ header, kvs: [{ key: "%%%", mod_revision: "1" }] }),
      /a key is not base64/,
    ],
    [
      "an endless body",
      () => new Response(new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(1 << 16)) })),
      /the answer is over 1 MiB/,
    ],
  ];
  for (const [what, answer, message] of answers) {
    const fake = member(answer);
    try {
      const client = new EtcdClient({ endpoints: [fake.endpoint], maxBodyBytes: 1024 * 1024 });
      const error = await refusal(client);
      assert.match(error.message, message, what);
      assert.equal(error.unreachable, false, what);
      await client.close();
    } finally {
      await fake.close();
    }
  }
});

Deno.test("etcd client: a watch delivers puts and deletes, and a garbage line or a cancel ends it with a reason", async () => {
  const lines = (body: string) => () => new Response(body);
  const events = JSON.stringify({
    result: {
      header,
      events: [{ kv: kv("/lb/web", '{"servers":[]}', "13") }, {
        type: "DELETE",
        kv: { key: toBase64("/lb/api"), mod_revision: "14" },
      }],
    },
  });
  const cases: [string, string, RegExp][] = [
    [
      "garbage",
      `${JSON.stringify({ result: { header, created: true } })}\n${events}\nnot json\n`,
      /a malformed watch answer: a line is not JSON/,
    ],
    [
      "compacted",
      `${events}\n${
        JSON.stringify({
          result: {
            header,
            canceled: true,
            compact_revision: "20",
            cancel_reason: "mvcc: required revision has been compacted",
          },
        })
      }\n`,
      /watch mvcc: required revision has been compacted/,
    ],
    ["ended", `${events}\n`, /watch ended/],
  ];
  for (const [what, body, message] of cases) {
    const fake = member(lines(body));
    const seen: unknown[] = [];
    try {
      const client = new EtcdClient({ endpoints: [fake.endpoint] });
      await assert.rejects(
        client.watch(
          "/lb/",
          13,
          { opened: () => {}, events: (e) => seen.push(...e) },
          new AbortController().signal,
        ),
        (e) => e instanceof StoreError && message.test(e.message),
        what,
      );
      assert.deepEqual(seen, [
        { type: "put", entry: { key: "/lb/web", value: '{"servers":[]}', modRevision: 13 } },
        { type: "delete", entry: { key: "/lb/api", value: "", modRevision: 14 } },
      ], what);
      await client.close();
    } finally {
      await fake.close();
    }
  }
});
