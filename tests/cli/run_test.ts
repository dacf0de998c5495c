/**
 * `memray run` on real Python programs, with the stand-in engine and (once built) the real one:
 * the program must see what `python script.py` shows it — argv, sys.path[0], stdin, output,
 * tracebacks, exit statuses.
 */
import assert from "node:assert/strict";
import {
  type CommandResult,
  enginesUnderTest,
  realPython,
  runMemray,
  runProgram,
  stubEngine,
  withScripts,
} from "./helpers.ts";

const SHOW = `import json, os, sys
print(json.dumps({"argv": sys.argv, "path0": sys.path[0], "name": __name__,
                  "file": globals().get("__file__"), "preload": os.environ.get("LD_PRELOAD")}))
`;

const FAILING = `def inner():
    raise ValueError("boom " + "x" * 3)

def outer():
    inner()

outer()
`;

const ENGINES = await enginesUnderTest();

function stdoutJson(result: CommandResult): unknown {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

for (const engine of ENGINES) {
  const memray = (
    args: string[],
    options: { cwd?: string; stdin?: string; env?: Record<string, string> } = {},
  ) => runMemray(["run", "--no-compress", ...args], { ...options, engine: engine.path });

  Deno.test(`${engine.name}: a script sees the argv, sys.path[0] and __file__ plain python shows it`, async () => {
    await withScripts({ "sub/show.py": SHOW }, async (directory) => {
      const args = ["sub/show.py", "a", "-f", "--output", "x", "--", "-q"];
      const plain = await runProgram(await realPython(), args, { cwd: directory });
      const profiled = await memray(["-q", "-o", "out.bin", ...args], { cwd: directory });
      assert.deepEqual(stdoutJson(profiled), stdoutJson(plain));
      assert.equal(profiled.stderr, "");
    });
  });

  Deno.test(`${engine.name}: -m and -c get python's argv and sys.path[0]`, async () => {
    await withScripts({ "showmod.py": SHOW }, async (directory) => {
      const python = await realPython();
      const plainModule = await runProgram(python, ["-m", "showmod", "x", "-m"], {
        cwd: directory,
      });
      const module = await memray(["-q", "-o", "m.bin", "-m", "showmod", "x", "-m"], {
        cwd: directory,
      });
      assert.deepEqual(stdoutJson(module), stdoutJson(plainModule));

      const code = SHOW.replaceAll("\n", ";").replace(/,;\s+/g, ", ").replace(/;$/, "");
      const plainCommand = await runProgram(python, ["-c", code, "y", "-c"], { cwd: directory });
      const command = await memray(["-q", "-o", "c.bin", "-c", code, "y", "-c"], {
        cwd: directory,
      });
      assert.deepEqual(stdoutJson(command), stdoutJson(plainCommand));
    });
  });

  Deno.test(`${engine.name}: stdin reaches the program and its output is unchanged`, async () => {
    await withScripts(
      { "upper.py": "import sys\nsys.stdout.write(sys.stdin.read().upper())\n" },
      async (directory) => {
        const result = await memray(["-q", "-o", "o.bin", "upper.py"], {
          cwd: directory,
          stdin: "hello\nworld\n",
        });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, "HELLO\nWORLD\n");
      },
    );
  });

  Deno.test(`${engine.name}: exit statuses are the program's`, async () => {
    await withScripts({
      "ok.py": "print('fine')\n",
      "three.py": "import sys\nsys.exit(3)\n",
      "killed.py": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    }, async (directory) => {
      assert.equal((await memray(["-q", "-o", "a.bin", "ok.py"], { cwd: directory })).code, 0);
      assert.equal((await memray(["-q", "-o", "b.bin", "three.py"], { cwd: directory })).code, 3);
      const killed = await memray(["-q", "-o", "c.bin", "killed.py"], { cwd: directory });
      assert.equal(killed.code, 128 + 9);
    });
  });

  Deno.test(`${engine.name}: an uncaught exception prints python's own traceback, exit 1`, async () => {
    await withScripts({ "failing.py": FAILING }, async (directory) => {
      const plain = await runProgram(await realPython(), ["failing.py"], { cwd: directory });
      const profiled = await memray(["-q", "-o", "f.bin", "failing.py"], { cwd: directory });
      assert.equal(plain.code, 1);
      assert.equal(profiled.code, 1);
      assert.match(profiled.stderr, /ValueError: boom xxx/);
      assert.equal(profiled.stderr, plain.stderr);
    });
  });

  Deno.test(`${engine.name}: the profiler is not inherited, the user's LD_PRELOAD is`, async () => {
    await withScripts({ "show.py": SHOW }, async (directory) => {
      const bare = stdoutJson(await memray(["-q", "-o", "a.bin", "show.py"], { cwd: directory }));
      assert.equal((bare as { preload: unknown }).preload, null);
      const libm = (await runProgram("/bin/sh", ["-c", "ls /lib/x86_64-linux-gnu/libm.so.6"]))
        .stdout.trim();
      const withUser = stdoutJson(
        await memray(["-q", "-o", "b.bin", "show.py"], {
          cwd: directory,
          env: { LD_PRELOAD: libm },
        }),
      );
      assert.equal((withUser as { preload: unknown }).preload, libm);
    });
  });

  Deno.test(`${engine.name}: default output names carry the program's pid`, async () => {
    await withScripts(
      { "sub/pid.py": "import os\nprint('pid', os.getpid())\n" },
      async (directory) => {
        const result = await memray(["sub/pid.py"], { cwd: directory });
        assert.equal(result.code, 0, result.stderr);
        const pid = result.stdout.match(/^pid (\d+)$/m)?.[1];
        assert.ok(pid, result.stdout);
        const expected = `sub/memray-pid.py.${pid}.bin`;
        assert.match(result.stdout, new RegExp(`^Writing profile results into ${expected}$`, "m"));
        assert.match(result.stdout, /\[memray\] Successfully generated profile results\./);
        assert.match(result.stdout, new RegExp(`^memray stats ${expected}$`, "m"));
        assert.ok((await Deno.stat(`${directory}/${expected}`)).size > 0);

        const command = await memray(["-c", "import os; print('pid', os.getpid())"], {
          cwd: directory,
        });
        const commandPid = command.stdout.match(/^pid (\d+)$/m)?.[1];
        assert.ok((await Deno.stat(`${directory}/memray-string.${commandPid}.bin`)).isFile);

        await Deno.writeTextFile(
          `${directory}/pidmod.py`,
          "import os\nprint('pid', os.getpid())\n",
        );
        const module = await memray(["-m", "pidmod"], { cwd: directory });
        const modulePid = module.stdout.match(/^pid (\d+)$/m)?.[1];
        assert.ok((await Deno.stat(`${directory}/memray-pidmod.${modulePid}.bin`)).isFile);
      },
    );
  });

  Deno.test(`${engine.name}: -q prints nothing of its own`, async () => {
    await withScripts({ "ok.py": "print('only this')\n" }, async (directory) => {
      const result = await memray(["-q", "ok.py"], { cwd: directory });
      assert.equal(result.stdout, "only this\n");
      assert.equal(result.stderr, "");
    });
  });

  Deno.test(`${engine.name}: an existing output needs -f`, async () => {
    await withScripts({ "ok.py": "print('ran')\n", "out.bin": "old" }, async (directory) => {
      const refused = await memray(["-q", "-o", "out.bin", "ok.py"], { cwd: directory });
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, "");
      assert.match(refused.stderr, /^memray: Output file out.bin already exists\..*--force/);
      assert.equal(await Deno.readTextFile(`${directory}/out.bin`), "old");
      const forced = await memray(["-q", "-f", "-o", "out.bin", "ok.py"], { cwd: directory });
      assert.equal(forced.code, 0, forced.stderr);
      assert.notEqual(await Deno.readTextFile(`${directory}/out.bin`), "old");
    });
  });

  Deno.test(`${engine.name}: SIGTERM to the CLI reaches the program`, async () => {
    const script = `import signal, sys, time
def stop(signum, frame):
    print("got", signal.Signals(signum).name, flush=True)
    sys.exit(5)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
time.sleep(30)
`;
    await withScripts({ "wait.py": script }, async (directory) => {
      const result = await signalWhenReady(engine.path, directory, "SIGTERM");
      assert.equal(result.stdout, "ready\ngot SIGTERM\n");
      assert.equal(result.code, 5);
    });
  });

  Deno.test(`${engine.name}: SIGINT to the CLI (no terminal) interrupts the program like Ctrl-C`, async () => {
    const script = "import time\nprint('ready', flush=True)\ntime.sleep(30)\n";
    await withScripts({ "wait.py": script }, async (directory) => {
      const result = await signalWhenReady(engine.path, directory, "SIGINT");
      assert.match(result.stderr, /KeyboardInterrupt/);
      assert.equal(result.code, 128 + 2);
    });
  });
}

/** Starts `memray run wait.py` in its own session, waits for "ready", then signals the CLI. */
async function signalWhenReady(
  engine: string,
  cwd: string,
  signal: Deno.Signal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = { ...Deno.env.toObject(), MEMRAY_DENO_LIB: engine };
  delete env.LD_PRELOAD;
  const child = new Deno.Command("setsid", {
    args: [
      Deno.execPath(),
      "run",
      "-A",
      `${new URL("../../main.ts", import.meta.url).pathname}`,
      "run",
      "-q",
      "--no-compress",
      "-o",
      "w.bin",
      "wait.py",
    ],
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let stdout = "";
  const reader = child.stdout.getReader();
  while (!stdout.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += decoder.decode(value);
  }
  child.kill(signal);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += decoder.decode(value);
  }
  const stderr = decoder.decode(await new Response(child.stderr).arrayBuffer());
  const status = await child.status;
  return { code: status.code, stdout, stderr };
}

Deno.test("stub engine: flags, metadata and thread names reach the engine", async () => {
  const engine = await stubEngine();
  const script = `import threading
def work():
    threading.current_thread().name = "renamed-inside"
t = threading.Thread(target=work, name="worker-7")
t.start(); t.join()
`;
  await withScripts({ "sub/threads.py": script }, async (cwd) => {
    const result = await runMemray(
      [
        "run",
        "-q",
        "--no-compress",
        "--native",
        "--follow-fork",
        "-o",
        "t.bin",
        "sub/threads.py",
        "z",
      ],
      { cwd, engine },
    );
    assert.equal(result.code, 0, result.stderr);
    const [header, metadataLine, ...rest] = (await Deno.readTextFile(`${cwd}/t.bin`)).split("\n");
    assert.match(header, /^STUB-CAPTURE flags=5 hexversion=\d+$/); // native | follow_fork
    const metadata = JSON.parse(metadataLine);
    assert.deepEqual(metadata.argv, ["sub/threads.py", "z"]);
    assert.equal(metadata.sys_path[0], `${cwd}/sub`);
    assert.equal(metadata.python_executable, await realPython());
    assert.equal(metadata.follow_fork, true);
    assert.match(metadata.bootstrap_file, /python\/memray_deno\/bootstrap\.py$/);
    assert.match(metadata.tool, /^memray-deno \d+\.\d+\.\d+$/);
    assert.deepEqual(rest.filter((line) => line !== ""), [
      "THREAD worker-7",
      "THREAD renamed-inside",
      "STOPPED",
    ]);
  });
});
