/**
 * A capture whose flame graph would have ~111,000 nodes (100,000 distinct leaf frames under 1,000
 * and 100 callers, sizes spread over four orders of magnitude), to measure folding:
 *
 *   .tools/bin/deno run -A bench/html/stress_capture.ts /tmp/fg_big/stress.bin
 *   .tools/bin/deno run -A bench/html/run.ts --capture /tmp/fg_big/stress.bin
 */
import { stackCapture, type Step } from "../../reporters/testing/stack_capture.ts";

const out = Deno.args[0] ?? "/tmp/fg_big/stress.bin";
const n = Number(Deno.args[1] ?? 100_000);
const steps: Step[] = [];
for (let i = 0; i < n; i++) {
  steps.push({
    alloc: 0x100000 + 64 * i,
    size: 16 + ((i * 7919) % 10_000),
    stack: [
      ["<module>", "/app/main.py", 1],
      [`f${i % 100}`, "/app/a.py", 10 + (i % 100)],
      [`g${i % 1000}`, "/app/b.py", 10 + (i % 1000)],
      [`h${i}`, "/app/c.py", 10 + i],
    ],
  });
}
await Deno.writeFile(out, stackCapture(steps));
console.log(`wrote ${out}: ${n} allocations`);
