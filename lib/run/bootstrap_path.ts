/** Locating the launcher's Python files as real files the interpreter can open. */
import { defaultCacheHome, materializeFile, projectRoot } from "../native_lib.ts";

/** The bootstrap's path: in the project under `deno run`, extracted to the cache when compiled. */
export async function locateBootstrap(): Promise<string> {
  const path = `${projectRoot()}/python/memray_deno/bootstrap.py`;
  if (!Deno.build.standalone) return path;
  return await materializeFile(path, "bootstrap.py", defaultCacheHome());
}

/**
 * The directory holding only the `--follow-fork` start hook (`sitecustomize.py`), which the
 * bootstrap puts on PYTHONPATH for the programs it execs.
 */
export async function locateFollowHookDir(): Promise<string> {
  const path = `${projectRoot()}/python/memray_deno/follow/sitecustomize.py`;
  const file = Deno.build.standalone
    ? await materializeFile(path, "sitecustomize.py", defaultCacheHome())
    : path;
  return file.slice(0, file.lastIndexOf("/"));
}
