/**
 * Module names of the `stats` report (memray's reporters/module_tools.py): the module a file
 * belongs to, from the capture's recorded search paths, and the module of a stack.
 */
import type { CaptureInfo } from "../capture/event_scan.ts";

/** memray's module types (module_tools.py): only "stdlib" frames are walked past. */
export type ModuleType = "stdlib" | "site-packages" | "project" | "unknown";

/** A path's parts as pathlib's `PurePosixPath` sees them: "//", "." and a trailing "/" vanish. */
function pathParts(path: string): string[] {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  return path.startsWith("/") ? ["/", ...parts] : parts;
}

/** `Path.relative_to`: the rest of `file` under `base`, or undefined when it is not under it. */
function relativeTo(file: string[], base: string[]): string[] | undefined {
  if (base.length > file.length) return undefined;
  for (let i = 0; i < base.length; i++) if (file[i] !== base[i]) return undefined;
  return file.slice(base.length);
}

/** memray's `_path_to_module`: `a/b/__init__.py` -> "a.b", `a/b.py` -> "a.b", `x.so` -> "x.so". */
function pathToModule(rel: string[]): string {
  let parts = rel;
  const name = parts.length ? parts[parts.length - 1] : "";
  if (name === "__init__.py") {
    parts = parts.slice(0, -1);
  } else {
    // pathlib's suffix: the last "." of the name, unless the name starts with it or ends with it.
    const dot = name.lastIndexOf(".");
    if (dot > 0 && dot < name.length - 1 && name.slice(dot) === ".py") {
      parts = [...parts.slice(0, -1), name.slice(0, dot)];
    }
  }
  return parts.join(".");
}

/** The search paths a capture recorded (its header or metadata). */
export interface PathInfo {
  stdlib?: string;
  site_packages: string[];
  sys_path: string[];
}

/** The capture's recorded stdlib dir, site-packages dirs and sys.path (without empty entries). */
export function capturePathInfo(capture: CaptureInfo): PathInfo {
  const md = capture.header.metadata;
  const strings = (v: unknown) =>
    (Array.isArray(v) ? v : []).filter((s): s is string => typeof s === "string" && s !== "");
  return {
    stdlib: typeof md.libdest === "string" && md.libdest !== "" ? md.libdest : undefined,
    site_packages: strings(md.site_packages),
    sys_path: strings(md.sys_path),
  };
}

/**
 * memray's `ModuleResolver` (reporters/module_tools.py): names the module of a file from the
 * capture's recorded paths (site-packages first, then the stdlib dir, then sys.path in order; a
 * `<frozen x>` file is stdlib module x; any other file is named after its own stem), and the
 * module of a stack after its nearest non-stdlib frame.
 */
export class ModuleResolver {
  readonly #stdlib: string[] | undefined;
  readonly #site: string[][];
  readonly #path: string[][];
  readonly #cache = new Map<string, [string, ModuleType]>();

  constructor(info: PathInfo, readonly isLauncherFile: (file: string) => boolean = () => false) {
    this.#stdlib = info.stdlib === undefined ? undefined : pathParts(info.stdlib);
    this.#site = info.site_packages.map(pathParts);
    this.#path = info.sys_path.map(pathParts);
  }

  /** [module name, module type] of `filename`, as memray's `extract_module_name_and_type`. */
  moduleOf(filename: string): [string, ModuleType] {
    let hit = this.#cache.get(filename);
    if (hit === undefined) {
      hit = this.#resolve(filename);
      this.#cache.set(filename, hit);
    }
    return hit;
  }

  #resolve(filename: string): [string, ModuleType] {
    if (filename === "") return ["unknown", "unknown"];
    if (filename.startsWith("<frozen ")) return [filename.slice("<frozen ".length, -1), "stdlib"];
    const file = pathParts(filename);
    for (const site of this.#site) {
      const rel = relativeTo(file, site);
      if (rel !== undefined) return [pathToModule(rel), "site-packages"];
    }
    if (this.#stdlib !== undefined) {
      const rel = relativeTo(file, this.#stdlib);
      if (rel !== undefined) return [pathToModule(rel), "stdlib"];
    }
    for (const entry of this.#path) {
      const rel = relativeTo(file, entry);
      if (rel !== undefined) return [pathToModule(rel), "project"];
    }
    // Path(filename).name: "" for "/" and for names pathlib reduces to nothing.
    return [
      pathToModule(file.length && file[file.length - 1] !== "/" ? [file[file.length - 1]] : []),
      "unknown",
    ];
  }

  /**
   * memray's `get_module_for_stack`: walks `files` leaf to root and returns the top-level name of
   * the first non-stdlib frame; "<root>" once the walk reaches the profiler's own frames (memray's
   * package, or our launcher: `isLauncherFile`), when every frame is stdlib, or for no frames.
   */
  moduleForStack(files: Iterable<string>): string {
    for (const file of files) {
      if (this.isLauncherFile(file)) return "<root>";
      const [name, type] = this.moduleOf(file);
      if (type === "stdlib") continue;
      const top = name.split(".")[0];
      return top === "memray" ? "<root>" : top;
    }
    return "<root>";
  }
}

/**
 * The {@link ModuleResolver} of a capture. For our own captures the launcher (the bootstrap file,
 * and the `--follow-fork` start hook in `follow/` beside it) ends the walk with "<root>", as
 * memray's own package does for memray's captures; runpy is stdlib and is walked past in both.
 */
export function captureModuleResolver(capture: CaptureInfo): ModuleResolver {
  const bootstrap = capture.header.metadata.bootstrap_file;
  if (typeof bootstrap !== "string" || bootstrap === "") {
    return new ModuleResolver(capturePathInfo(capture));
  }
  const follow_dir = `${bootstrap.slice(0, bootstrap.lastIndexOf("/") + 1)}follow/`;
  return new ModuleResolver(
    capturePathInfo(capture),
    (file) => file === bootstrap || file.startsWith(follow_dir),
  );
}
