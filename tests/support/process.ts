/** Running a program to completion in tests, shared by tests/cli and tests/integration. */

/** Options of {@link runWithEnvironment}. */
export interface SpawnOptions {
  cwd?: string;
  /** Written to the program's stdin, then closed; without it stdin is /dev/null. */
  stdin?: Uint8Array | string;
  /** The program's whole environment (nothing is inherited). */
  env: Record<string, string>;
}

/** Runs `program` with exactly `options.env` as its environment; stdout and stderr are piped. */
export async function runWithEnvironment(
  program: string,
  args: string[],
  options: SpawnOptions,
): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    const bytes = typeof options.stdin === "string"
      ? new TextEncoder().encode(options.stdin)
      : options.stdin;
    await writer.write(bytes);
    await writer.close();
  }
  return await child.output();
}
