import assert from "node:assert/strict";
import { buildIdHex, DebuginfodClient, defaultCacheDir, parseServerUrls } from "./debuginfod.ts";
import {
  buildSplitLibrary,
  deadServerUrl,
  silentServer,
  startDebuginfod,
} from "../../tests/native_symbols/debug_fixtures.ts";

const ELF_HEAD = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "memray-debuginfod-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A fake server: `answer(path)` decides each response; counts requests and concurrency. */
function fakeServer(answer: (path: string) => Promise<Response> | Response) {
  const stats = { requests: 0, in_flight: 0, max_in_flight: 0, paths: [] as string[] };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    stats.requests++;
    stats.in_flight++;
    stats.max_in_flight = Math.max(stats.max_in_flight, stats.in_flight);
    stats.paths.push(new URL(request.url).pathname);
    try {
      return await answer(new URL(request.url).pathname);
    } finally {
      stats.in_flight--;
    }
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, stats, stop: () => server.shutdown() };
}

const hex = (n: number) => n.toString(16).padStart(40, "0");

Deno.test("environment: cache directory precedence and server list", () => {
  const env = (values: Record<string, string>) => (name: string) => values[name];
  assert.equal(
    defaultCacheDir(env({ DEBUGINFOD_CACHE_PATH: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" })),
    "/c",
  );
  assert.equal(defaultCacheDir(env({ XDG_CACHE_HOME: "/x", HOME: "/h" })), "/x/debuginfod_client");
  assert.equal(defaultCacheDir(env({ HOME: "/h" })), "/h/.cache/debuginfod_client");
  assert.equal(defaultCacheDir(env({})), undefined);
  assert.deepEqual(
    parseServerUrls("  https://a.example/  http://b:8002 ftp://c https://a.example\n"),
    ["https://a.example", "http://b:8002"],
  );
  assert.deepEqual(parseServerUrls(undefined), []);
  assert.equal(buildIdHex(new Uint8Array([0x0a, 0xff, 0x00])), "0aff00");
  const off = new DebuginfodClient({
    enabled: false,
    env: env({ DEBUGINFOD_URLS: "http://x", HOME: "/h" }),
  });
  assert.equal(off.active, false);
  const on = new DebuginfodClient({ env: env({ DEBUGINFOD_URLS: "http://x", HOME: "/h" }) });
  assert.deepEqual(on.urls, ["http://x"]);
  assert.equal(on.cache_dir, "/h/.cache/debuginfod_client");
});

Deno.test({
  name: "real debuginfod: downloads the stripped library's debug file into the standard cache",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDir(async (dir) => {
      const scan = `${dir}/served`;
      await Deno.mkdir(scan);
      const library = await buildSplitLibrary(dir);
      await Deno.copyFile(library.debug, `${scan}/lib.debug`);
      const server = await startDebuginfod(scan, dir, library.build_id);
      try {
        const warnings: string[] = [];
        const cache_dir = `${dir}/cache`;
        const client = new DebuginfodClient({
          urls: [server.url],
          cache_dir,
          warn: (l) => warnings.push(l),
        });
        const path = await client.debuginfo(library.build_id);
        assert.equal(path, `${cache_dir}/${library.build_id}/debuginfo`);
        assert.deepEqual(await Deno.readFile(path!), await Deno.readFile(library.debug));
        // Nothing but the file is left in the cache entry (the temporary was renamed).
        const entries = [...Deno.readDirSync(`${cache_dir}/${library.build_id}`)].map((e) =>
          e.name
        );
        assert.deepEqual(entries, ["debuginfo"]);
        assert.equal(await client.debuginfo(hex(7)), undefined, "unknown build-id: a 404");
        assert.deepEqual(warnings, [], "a 404 is not worth a warning");
      } finally {
        await server.stop();
      }
      // The server is gone: a new client finds the file in the cache without asking anyone.
      const warnings: string[] = [];
      const offline = new DebuginfodClient({
        urls: [deadServerUrl()],
        cache_dir: `${dir}/cache`,
        warn: (l) => warnings.push(l),
      });
      assert.equal(
        await offline.debuginfo(library.build_id),
        `${dir}/cache/${library.build_id}/debuginfo`,
      );
      assert.deepEqual(warnings, []);
    }),
});

Deno.test("dead server: one warning naming it, quick, not asked again", () =>
  withDir(async (dir) => {
    const url = deadServerUrl();
    const warnings: string[] = [];
    const client = new DebuginfodClient({
      urls: [url],
      cache_dir: dir,
      warn: (l) => warnings.push(l),
    });
    const started = Date.now();
    assert.equal(await client.debuginfo(hex(1)), undefined);
    assert.equal(await client.debuginfo(hex(2)), undefined);
    // A bound that tells "refused at once" from a hang, with room for a loaded CI machine.
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0],
      new RegExp(`^memray: debuginfod server ${url} is unreachable .*continuing without it$`),
    );
  }));

Deno.test({
  name: "server that never answers: bounded by the connect timeout, warning, no hang",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withDir(async (dir) => {
      const silent = silentServer();
      try {
        const warnings: string[] = [];
        const client = new DebuginfodClient({
          urls: [silent.url],
          cache_dir: dir,
          connect_timeout_ms: 300,
          warn: (l) => warnings.push(l),
        });
        const started = Date.now();
        const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => client.debuginfo(hex(n))));
        const elapsed = Date.now() - started;
        assert.deepEqual(results, Array(6).fill(undefined));
        // At most max_parallel (4) requests wait on the dead server; later ones are not sent. The
        // bound tells timeouts from a hang, with room for a loaded CI machine.
        assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
        assert.deepEqual(warnings, [
          `memray: debuginfod server ${silent.url} did not answer within 300 ms; continuing without it`,
        ]);
      } finally {
        await silent.stop();
      }
    }),
});

Deno.test("misses are remembered, requests are bounded in number and parallelism", () =>
  withDir(async (dir) => {
    const fake = fakeServer(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return new Response("not found", { status: 404 });
    });
    try {
      const warnings: string[] = [];
      const client = new DebuginfodClient({
        urls: [fake.url],
        cache_dir: dir,
        max_requests: 5,
        max_parallel: 2,
        warn: (l) => warnings.push(l),
      });
      assert.equal(await client.debuginfo(hex(1)), undefined);
      assert.equal(await client.debuginfo(hex(1)), undefined);
      assert.equal(fake.stats.requests, 1, "the miss is cached");
      await Promise.all([2, 3, 4, 5, 6, 7, 8].map((n) => client.debuginfo(hex(n))));
      assert.equal(fake.stats.requests, 5, "max_requests");
      assert.equal(fake.stats.max_in_flight, 2, "max_parallel");
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /request budget for this report used up/);
      assert.equal(await client.debuginfo("not hex!"), undefined);
      assert.equal(fake.stats.requests, 5, "a malformed build-id is never sent");
    } finally {
      await fake.stop();
    }
  }));

Deno.test("a body that is not ELF, a 500 and a stalled body are not cached", () =>
  withDir(async (dir) => {
    const fake = fakeServer((path) => {
      if (path.includes(hex(1))) return new Response("<html>proxy login</html>");
      if (path.includes(hex(2))) return new Response("oops", { status: 500 });
      if (path.includes(hex(3))) {
        const body = new ReadableStream({ start: (c) => c.enqueue(ELF_HEAD) }); // never closes
        return new Response(body);
      }
      return new Response(ELF_HEAD);
    });
    try {
      const warnings: string[] = [];
      const make = () =>
        new DebuginfodClient({
          urls: [fake.url],
          cache_dir: dir,
          stall_timeout_ms: 200,
          warn: (l) => warnings.push(l),
        });
      assert.equal(await make().debuginfo(hex(1)), undefined);
      assert.match(warnings.pop()!, /sent a file that is not ELF/);
      assert.equal(await make().debuginfo(hex(2)), undefined);
      assert.match(warnings.pop()!, /answered HTTP 500; continuing without it$/);
      const started = Date.now();
      assert.equal(await make().debuginfo(hex(3)), undefined);
      assert.ok(Date.now() - started < 1500);
      assert.match(warnings.pop()!, /stalled for 200 ms/);
      assert.equal(await make().debuginfo(hex(4)), `${dir}/${hex(4)}/debuginfo`);
      assert.deepEqual(warnings, []);
      const cached = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(cached, [hex(4)], "only the good file reached the cache");
    } finally {
      await fake.stop();
    }
  }));

Deno.test("the whole client stops at its time budget", () =>
  withDir(async (dir) => {
    const fake = fakeServer(async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return new Response("no", { status: 404 });
    });
    try {
      const warnings: string[] = [];
      const client = new DebuginfodClient({
        urls: [fake.url],
        cache_dir: dir,
        budget_ms: 400,
        max_parallel: 1,
        warn: (l) => warnings.push(l),
      });
      const started = Date.now();
      for (let n = 1; n <= 10; n++) await client.debuginfo(hex(n));
      assert.ok(Date.now() - started < 900, `took ${Date.now() - started} ms`);
      assert.ok(fake.stats.requests <= 4, `${fake.stats.requests} requests`);
      assert.ok(warnings.length >= 1);
    } finally {
      await fake.stop();
    }
  }));
