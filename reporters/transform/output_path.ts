/** memray's default report names and its `Path` spelling of them (`commands/common.py`). */

/** `PurePosixPath(name).suffix`: the last dot-suffix, "" for hidden names and trailing dots. */
export function pathSuffix(name: string): string {
  const i = name.lastIndexOf(".");
  return i > 0 && i < name.length - 1 ? name.slice(i) : "";
}

/**
 * `str(PurePosixPath(path))`: repeated slashes and "." components dropped, except that one
 * leading "//" is kept, as POSIX allows it a meaning.
 */
export function pathString(path: string): string {
  if (path === "") return ".";
  const lead = path.startsWith("//") && !path.startsWith("///")
    ? "//"
    : path.startsWith("/")
    ? "/"
    : "";
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  const joined = lead + parts.join("/");
  return joined === "" ? "." : joined;
}

/**
 * memray's `determine_output_filename`: `memray-<reporter>-<name>` next to the capture, where
 * `<name>` is the capture's name with its suffix replaced by `suffix` and a leading "memray-"
 * dropped (`memray-app.py.4242.bin` → `memray-csv-app.py.4242.csv`).
 */
export function defaultOutputPath(capture_path: string, reporter: string, suffix: string): string {
  const normal = pathString(capture_path);
  const slash = normal.lastIndexOf("/");
  const dir = slash >= 0 ? normal.slice(0, slash + 1) : "";
  const name = normal.slice(slash + 1);
  const old_suffix = pathSuffix(name);
  let output = name.slice(0, name.length - old_suffix.length) + suffix;
  if (output.startsWith("memray-")) output = output.slice("memray-".length);
  return pathString(`${dir}memray-${reporter}-${output}`);
}
