import assert from "node:assert/strict";
import { outputDirectory, outputNaming, outputPathFor, pythonDirname } from "./output_path.ts";

Deno.test("default names follow memray: script beside itself, -m and -c in cwd", () => {
  assert.equal(outputPathFor(outputNaming("file", "app.py"), 42), "memray-app.py.42.bin");
  assert.equal(
    outputPathFor(outputNaming("file", "sub/dir/app.py"), 7),
    "sub/dir/memray-app.py.7.bin",
  );
  assert.equal(outputPathFor(outputNaming("file", "/abs/app.py"), 7), "/abs/memray-app.py.7.bin");
  assert.equal(outputPathFor(outputNaming("module", "json.tool"), 9), "memray-json.tool.9.bin");
  assert.equal(outputPathFor(outputNaming("command", "print(1)"), 9), "memray-string.9.bin");
});

Deno.test("an explicit -o wins and its directory is checked", () => {
  const naming = outputNaming("file", "a/app.py", "out/x.bin");
  assert.equal(outputPathFor(naming, 1), "out/x.bin");
  assert.equal(outputDirectory(naming), "out");
  assert.equal(outputDirectory(outputNaming("file", "app.py")), ".");
  assert.equal(outputDirectory(outputNaming("file", "/app.py")), "/");
});

Deno.test("dirname matches posixpath.dirname", () => {
  const cases: [string, string][] = [["a", ""], ["/a", "/"], ["a//b", "a"], ["//a", "//"], [
    "a/b/",
    "a/b",
  ]];
  for (const [path, expected] of cases) assert.equal(pythonDirname(path), expected, path);
});
