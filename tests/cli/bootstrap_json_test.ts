/**
 * The bootstrap reads its configuration and writes capture metadata without the json module
 * (python/memray_deno/bootstrap.py `_load_config`, `_json_text`): both must agree with JSON as
 * Deno and Python's json module read and write it, on every supported interpreter.
 */
import assert from "node:assert/strict";
import { PROJECT_ROOT, runProgram } from "./helpers.ts";

const BOOTSTRAP = `${PROJECT_ROOT}/python/memray_deno/bootstrap.py`;
const PYTHONS = ["3.9.18/bin/python3.9", "3.11.7/bin/python3.11", "3.13.0/bin/python3.13"]
  .map((path) => `/root/.pyenv/versions/${path}`)
  .filter((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });

// Loads the bootstrap as a module (its _main does not run) and applies one of its functions.
const DRIVER = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("bootstrap_under_test", sys.argv[1])
bootstrap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bootstrap)
if sys.argv[2] == "load":
    print(json.dumps(bootstrap._load_config(sys.argv[3])))
else:
    value = json.loads(sys.argv[3])
    text = bootstrap._json_text(value)
    assert json.loads(text) == value, (text, value)
    print(text)
`;

const TRICKY = [
  "plain",
  "",
  'quote " backslash \\ slash / tab \t newline \n nul \0 bell \x07',
  "unicode é ß 漢字 \u2028 \u2029 emoji 🐍",
  "lone surrogate \ud800 end",
  "a = b, c: {d} [e] #f",
  "true false null None True",
];

function runDriver(python: string, action: string, text: string) {
  return runProgram(python, ["-c", DRIVER, BOOTSTRAP, action, text]);
}

Deno.test("the bootstrap reads every config JSON.stringify writes", async () => {
  const config = {
    mode: "file",
    target: TRICKY.join("|"),
    output: undefined,
    default_output_dir: "",
    strings: TRICKY,
    force: true,
    quiet: false,
    nothing: null,
    number: -12.5e3,
    nested: { empty: {}, list: [] },
  };
  for (const python of PYTHONS) {
    const result = await runDriver(python, "load", JSON.stringify(config));
    assert.equal(result.code, 0, `${python}: ${result.stderr}`);
    assert.deepEqual(JSON.parse(result.stdout), JSON.parse(JSON.stringify(config)), python);
  }
});

Deno.test("the bootstrap refuses a config that is not plain JSON data", async () => {
  const python = PYTHONS[0];
  for (const text of ['__import__("os")', '{"a": print(1)}', "(lambda: 0)()", "[1, 2]", "{", ""]) {
    const result = await runDriver(python, "load", text);
    assert.equal(result.code, 1, text);
    assert.match(result.stderr, /Cannot read the launcher configuration: it is not a JSON object/);
    assert.equal(result.stdout, "", text);
  }
});

Deno.test("the bootstrap writes metadata that JSON.parse reads back unchanged", async () => {
  const metadata = {
    tool: "memray-deno 0.1.0",
    argv: TRICKY,
    follow_fork: false,
    bootstrap_file: null,
    parent_pid: 4194304,
    sys_path: ["", "/usr/lib/python3.11"],
    nested: { 'key with "quote"': [true, false, null, 0, -1] },
  };
  for (const python of PYTHONS) {
    const result = await runDriver(python, "dump", JSON.stringify(metadata));
    assert.equal(result.code, 0, `${python}: ${result.stderr}`);
    assert.deepEqual(JSON.parse(result.stdout), metadata, python);
  }
});
