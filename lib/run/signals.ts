/** Forwarding the signals that ask a program to stop from the CLI to the profiled child. */

const FORWARDED_SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

/**
 * Forwards SIGINT and SIGTERM to `child` until the returned function is called. A SIGINT that
 * the terminal sent (Ctrl-C reaches the whole foreground process group, the child included) is
 * not sent a second time: a doubled SIGINT would interrupt the program's own KeyboardInterrupt
 * handling, which a plain `python script.py` would not see.
 */
export function forwardSignals(child: Deno.ChildProcess): () => void {
  const listeners = FORWARDED_SIGNALS.map((signal) => {
    const listener = () => {
      if (signal === "SIGINT" && inForegroundOfTerminal()) return;
      try {
        child.kill(signal);
      } catch {
        // The child has already exited: its status is about to be read.
      }
    };
    Deno.addSignalListener(signal, listener);
    return { signal, listener };
  });
  return () => {
    for (const { signal, listener } of listeners) Deno.removeSignalListener(signal, listener);
  };
}

/** Whether this process is in its controlling terminal's foreground process group. */
export function inForegroundOfTerminal(): boolean {
  let stat: string;
  try {
    stat = Deno.readTextFileSync("/proc/self/stat");
  } catch {
    return false;
  }
  // After "pid (comm) ": state ppid pgrp session tty_nr tpgid ...; comm may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const processGroup = Number(fields[2]);
  const terminalGroup = Number(fields[5]);
  return terminalGroup > 0 && processGroup === terminalGroup;
}
