/**
 * Runs tests/native_python/run.sh (the Python frame walker's unit, layout and end-to-end checks on
 * every installed CPython) so that `deno test` covers native/python/.
 */
const script = new URL("./run.sh", import.meta.url).pathname;

Deno.test("native/python walker: layout tables and stacks match CPython on every version", async () => {
  const output = await new Deno.Command("bash", {
    args: [script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `Cannot verify the Python frame walker: run.sh exited with ${output.code}\n` +
        decoder.decode(output.stdout) + decoder.decode(output.stderr),
    );
  }
});
