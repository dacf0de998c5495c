/**
 * Naming of the capture file. The default name carries the Python process's pid, which only
 * exists once the process does: the CLI hands the directory and stem to the bootstrap, and both
 * sides join them with the pid in the same way (Python's os.path semantics, as memray).
 */

/** How the run's kind of target is named: a file, `-m module` or `-c command`. */
export type TargetMode = "file" | "module" | "command";

/** The capture path, or the parts of its default name waiting for a pid. */
export interface OutputNaming {
  /** `-o FILE` as given; when set the other fields are unused. */
  explicit?: string;
  /** Directory of the default name, as Python's `os.path.dirname` gives it ("" = cwd). */
  defaultDir: string;
  /** `memray-<script basename>`, `memray-<module>` or `memray-string`. */
  defaultStem: string;
}

/** The naming memray uses for a target (reference §1.1, `_run_with_file_output`). */
export function outputNaming(mode: TargetMode, target: string, explicit?: string): OutputNaming {
  const scriptName = mode === "command" ? "string" : target;
  return {
    explicit,
    defaultDir: pythonDirname(scriptName),
    defaultStem: `memray-${pythonBasename(scriptName)}`,
  };
}

/** The capture path of the process `pid`. */
export function outputPathFor(naming: OutputNaming, pid: number): string {
  if (naming.explicit !== undefined) return naming.explicit;
  return pythonJoin(naming.defaultDir, `${naming.defaultStem}.${pid}.bin`);
}

/** The directory the capture goes into ("." for a bare file name). */
export function outputDirectory(naming: OutputNaming): string {
  const directory = naming.explicit === undefined
    ? naming.defaultDir
    : pythonDirname(naming.explicit);
  return directory === "" ? "." : directory;
}

/** `os.path.dirname` of posixpath. */
export function pythonDirname(path: string): string {
  const head = path.slice(0, path.lastIndexOf("/") + 1);
  if (head !== "" && !/^\/+$/.test(head)) return head.replace(/\/+$/, "");
  return head;
}

/** `os.path.basename` of posixpath. */
export function pythonBasename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** `os.path.join(directory, name)` of posixpath for a relative `name`. */
export function pythonJoin(directory: string, name: string): string {
  if (directory === "" || directory.endsWith("/")) return `${directory}${name}`;
  return `${directory}/${name}`;
}
