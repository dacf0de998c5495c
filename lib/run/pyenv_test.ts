import assert from "node:assert/strict";
import { resolvePyenvShim } from "./pyenv.ts";

const SHIM = `#!/usr/bin/env bash
set -e
program="\${0##*/}"

export PYENV_ROOT="@ROOT@"
exec "@ROOT@/libexec/pyenv" exec "$program" "$@"
`;

async function withPyenv(body: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "memray-pyenv-" });
  try {
    await Deno.mkdir(`${root}/shims`);
    await Deno.writeTextFile(`${root}/shims/python3`, SHIM.replaceAll("@ROOT@", root));
    for (const version of ["3.11.7", "3.12.1"]) {
      await Deno.mkdir(`${root}/versions/${version}/bin`, { recursive: true });
      await Deno.writeTextFile(`${root}/versions/${version}/bin/python3`, "", { mode: 0o755 });
    }
    await Deno.mkdir(`${root}/project/sub`, { recursive: true });
    await body(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("pyenv shims resolve in pyenv's order without running them", async () => {
  await withPyenv(async (root) => {
    const shim = `${root}/shims/python3`;
    const cwd = `${root}/project/sub`;
    const bin = (version: string) => `${root}/versions/${version}/bin/python3`;
    // No version anywhere: "system" in pyenv, left to the shim.
    assert.equal(resolvePyenvShim(shim, { env: {}, cwd }), undefined);
    await Deno.writeTextFile(`${root}/version`, "3.12.1\n");
    assert.equal(resolvePyenvShim(shim, { env: {}, cwd }), bin("3.12.1"));
    await Deno.writeTextFile(`${root}/project/.python-version`, "# pinned\n3.11.7\n");
    assert.equal(resolvePyenvShim(shim, { env: {}, cwd }), bin("3.11.7"));
    assert.equal(
      resolvePyenvShim(shim, { env: { PYENV_VERSION: "3.12.1" }, cwd }),
      bin("3.12.1"),
    );
    // Unsure cases go back to the shim: unknown version, several versions, system.
    for (const version of ["3.10", "3.11.7:3.12.1", "system"]) {
      assert.equal(
        resolvePyenvShim(shim, { env: { PYENV_VERSION: version }, cwd }),
        undefined,
      );
    }
    assert.equal(
      resolvePyenvShim(`${root}/versions/3.11.7/bin/python3`, { env: {} }),
      undefined,
    );
  });
});
