/**
 * Profiling changes nothing the program shows: for scripts writing to both streams, reading
 * stdin, exiting with a status, dying of an uncaught exception, and for `-c` and `-m`, the
 * stdout and stderr bytes and the exit status under `memray run -q` are those of plain python.
 */
import assert from "node:assert/strict";
import { type Finished, memray, PYTHON, runProcess, withTempDir } from "./helpers.ts";

const INTERPRETERS = [
  "/root/.pyenv/versions/3.9.18/bin/python3.9",
  PYTHON,
  "/usr/bin/python3.11",
];

const FILES: Record<string, string> = {
  "streams.py": `import sys
data = sys.stdin.buffer.read()
print("argv", sys.argv[1:])
sys.stderr.write("to stderr %d bytes\\n" % len(data))
sys.stdout.buffer.write(data[::-1])
print("\\u00e9t\\u00e9 \\u2603")
sys.stderr.write("last words\\n")
sys.exit(3)
`,
  "raises.py": `import sys
def inner(n):
    return {"a": 1}[n]

def outer():
    print("about to fail")
    return inner("b" * 3)

outer()
`,
  "chained.py": `def f():
    try:
        1 / 0
    except ZeroDivisionError as error:
        raise RuntimeError("wrapped") from error
f()
`,
  "pkg/__init__.py": "",
  "pkg/tool.py": `import sys
print("module", __name__, sys.argv)
sys.stderr.write("module stderr\\n")
raise SystemExit(5)
`,
};

const STDIN = new Uint8Array([0x68, 0x69, 0x00, 0xff, 0xfe, 0x0a, 0x80]);

/** (arguments after the interpreter, stdin) pairs run both ways. */
const CASES: { name: string; args: string[]; stdin?: Uint8Array }[] = [
  { name: "both streams, stdin, exit 3", args: ["streams.py", "x", "--y"], stdin: STDIN },
  { name: "uncaught exception", args: ["raises.py"] },
  { name: "chained exception", args: ["chained.py"] },
  {
    name: "-c",
    args: ["-c", "import sys; print(sys.argv); sys.stderr.write('e\\n'); 1/0", "arg"],
  },
  { name: "-m", args: ["-m", "pkg.tool", "--flag", "v"] },
];

function same(plain: Finished, profiled: Finished, what: string): void {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.equal(profiled.code, plain.code, `${what}: exit status (stderr: ${profiled.err})`);
  assert.equal(text(profiled.stdout), text(plain.stdout), `${what}: stdout`);
  assert.deepEqual(profiled.stdout, plain.stdout, `${what}: stdout bytes`);
  assert.equal(text(profiled.stderr), text(plain.stderr), `${what}: stderr`);
}

for (const python of INTERPRETERS) {
  Deno.test(`program output and status are unchanged: ${python}`, async () => {
    await withTempDir(async (dir) => {
      for (const [name, content] of Object.entries(FILES)) {
        await Deno.mkdir(`${dir}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
        await Deno.writeTextFile(`${dir}/${name}`, content);
      }
      await Promise.all(CASES.map(async (c, i) => {
        const options = { cwd: dir, stdin: c.stdin };
        const [plain, profiled] = await Promise.all([
          runProcess(python, c.args, options),
          memray(
            [
              "run",
              "-q",
              "--no-compress",
              "-o",
              `${dir}/out${i}.bin`,
              "--python",
              python,
              ...c.args,
            ],
            options,
          ),
        ]);
        assert.notEqual(plain.code, 0, `${c.name}: the case must exercise a failure status`);
        same(plain, profiled, c.name);
      }));
    });
  });
}
