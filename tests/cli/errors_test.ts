/**
 * Every refusal of the CLI is one line `memray: ...` with status 1 (a command failed) or 2 (the
 * command line is wrong), and nothing of the user's runs.
 */
import assert from "node:assert/strict";
import { exists, oneErrorLine, runMemray, stubEngine, withScripts } from "./helpers.ts";

const ENGINE = await stubEngine();
const TOUCH = "open('ran.txt', 'w').write('ran')\n";

async function refused(
  args: string[],
  expected: { code: number; line: RegExp },
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<void> {
  const result = await runMemray(args, { engine: ENGINE, ...options });
  assert.equal(result.code, expected.code, `${args.join(" ")}: ${result.stderr}`);
  assert.match(oneErrorLine(result.stderr), expected.line);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  assert.equal(result.stdout, "");
  assert.equal(await exists(`${options.cwd}/ran.txt`), false, "the program must not run");
}

Deno.test("a missing script", async () => {
  await withScripts({}, async (cwd) => {
    await refused(["run", "nope.py"], {
      code: 1,
      line: /^memray: Cannot run nope\.py: no such file$/,
    }, { cwd });
  });
});

Deno.test("a file that is not Python, and a -c that is not Python", async () => {
  await withScripts({ "bad.py": "def broken(:\n" + TOUCH }, async (cwd) => {
    const line = /^memray: Only valid Python files or commands can be executed under memray$/;
    await refused(["run", "bad.py"], { code: 1, line }, { cwd });
    await refused(["run", "-c", "1 +"], { code: 1, line }, { cwd });
    const captures = [...Deno.readDirSync(cwd)].filter((entry) => entry.name.endsWith(".bin"));
    assert.deepEqual(captures, [], "no capture for a program that never ran");
  });
});

Deno.test("an existing output without -f", async () => {
  await withScripts({ "ok.py": TOUCH, "out.bin": "keep" }, async (cwd) => {
    await refused(["run", "-o", "out.bin", "ok.py"], {
      code: 1,
      line: /^memray: Output file out\.bin already exists\. .*--force/,
    }, { cwd });
  });
});

Deno.test("an output directory that is missing, not a directory, or not writable", async () => {
  await withScripts({ "ok.py": TOUCH, "file": "" }, async (cwd) => {
    await refused(["run", "-o", "missing/x.bin", "ok.py"], {
      code: 1,
      line: /^memray: Cannot write output file missing\/x\.bin: directory missing does not exist$/,
    }, { cwd });
    await refused(["run", "-o", "file/x.bin", "ok.py"], {
      code: 1,
      line: /^memray: Cannot write output file file\/x\.bin: file is not a directory$/,
    }, { cwd });
    // /proc refuses new files even to root.
    await refused(["run", "-o", "/proc/x.bin", "ok.py"], {
      code: 1,
      line: /^memray: Cannot write output file \/proc\/x\.bin: directory \/proc is not writable/,
    }, { cwd });
  });
});

Deno.test("an interpreter that cannot be found or run", async () => {
  await withScripts({ "ok.py": TOUCH, "notpython": "#!/bin/sh\nexit 7\n" }, async (cwd) => {
    await refused(["run", "--python", "/nonexistent/python3", "ok.py"], {
      code: 1,
      line: /^memray: Cannot find the Python interpreter \/nonexistent\/python3/,
    }, { cwd });
    await Deno.chmod(`${cwd}/notpython`, 0o755);
    await refused(["run", "--python", "./notpython", "ok.py"], {
      code: 1,
      line: /^memray: Cannot run the Python interpreter .*notpython: exit status 7$/,
    }, { cwd });
    await refused(["run", "ok.py"], {
      code: 1,
      line: /^memray: Cannot find python3 on PATH/,
    }, { cwd, env: { PATH: "/nonexistent" } });
  });
});

Deno.test("a native library that cannot be found says how to build it", async () => {
  await withScripts({ "ok.py": TOUCH }, async (cwd) => {
    const result = await runMemray(["run", "ok.py"], {
      cwd,
      env: { MEMRAY_DENO_LIB: `${cwd}/missing.so` },
    });
    assert.equal(result.code, 1);
    assert.match(
      oneErrorLine(result.stderr),
      /^memray: Cannot find the native library: MEMRAY_DENO_LIB names/,
    );
    assert.equal(await exists(`${cwd}/ran.txt`), false);
  });
});

Deno.test("bad flags and arguments are usage errors (status 2)", async () => {
  await withScripts({ "ok.py": TOUCH }, async (cwd) => {
    await refused(["run", "--bogus", "ok.py"], {
      code: 2,
      line: /^memray: unknown option '--bogus'$/,
    }, { cwd });
    await refused(["run", "--forc", "ok.py"], {
      code: 2,
      line: /^memray: unknown option '--forc' \(Did you mean --force\?\)$/,
    }, { cwd });
    await refused(["run", "-o"], {
      code: 2,
      line: /^memray: option '-o, --output <file>' argument missing$/,
    }, { cwd });
    await refused(["run"], { code: 2, line: /^memray: run: missing the program to run/ }, { cwd });
    await refused(["run", "-c", "ok.py"], {
      code: 2,
      line: /^memray: run: remove the option -c to run a file$/,
    }, { cwd });
    await refused(["run", "-m", "-c", "x"], {
      code: 2,
      line: /^memray: run: -m and -c cannot be used together$/,
    }, { cwd });
    await refused(["run", "--no-compress", "--compress-on-exit", "ok.py"], {
      code: 2,
      line: /cannot be used with/,
    }, { cwd });
    await refused(["frobnicate"], { code: 2, line: /^memray: unknown command 'frobnicate'$/ }, {
      cwd,
    });
    await refused(["stats", "-n", "0", "x.bin"], {
      code: 2,
      line: /0 is an invalid positive int value/,
    }, { cwd });
    await refused(["summary", "-s", "9", "x.bin"], {
      code: 2,
      line: /^memray: The --sort-column argument must be between 1 and 5$/,
    }, { cwd });
  });
});

Deno.test("reports of a missing capture", async () => {
  await withScripts({}, async (cwd) => {
    for (const command of ["stats", "summary", "parse"]) {
      await refused([command, "none.bin"], { code: 1, line: /^memray: No such file: none\.bin$/ }, {
        cwd,
      });
    }
  });
});

Deno.test("-V prints the version", async () => {
  const result = await runMemray(["-V"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^\d+\.\d+\.\d+\n$/);
});

Deno.test("-m with a module that cannot be imported leaves no capture", async () => {
  await withScripts({}, async (cwd) => {
    const result = await runMemray(["run", "-q", "-m", "no_such_module_here"], {
      engine: ENGINE,
      cwd,
    });
    assert.equal(result.code, 1);
    assert.equal(oneErrorLine(result.stderr), "memray: No module named no_such_module_here");
    assert.deepEqual([...Deno.readDirSync(cwd)], []);
  });
});
