/* Shared-library fixture of lib/native/symbolizer_test.ts: `inner` is always inlined into
 * `fix_outer`, and `record` returns its return address, which lies in the inlined code.
 * Line numbers are asserted by the test: keep the MARK comments on their lines. */
#include <stdlib.h>

void *volatile fix_sink;

__attribute__((noinline)) void *record(void) { return __builtin_return_address(0); }

static inline __attribute__((always_inline)) void *inner(int n) {
  fix_sink = malloc((size_t)n);
  void *where = record(); /* MARK inner_call */
  /* Work after the call keeps it from being a tail call (the return address must be here). */
  __asm__ volatile("" ::: "memory");
  return where;
}

__attribute__((noinline)) void *fix_outer(int n) {
  void *where = inner(n); /* MARK outer_call */
  __asm__ volatile("" ::: "memory");
  return where;
}
