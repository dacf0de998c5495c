/* PIE executable fixture of lib/native/symbolizer_test.ts: prints, for a return address in
 * itself and one in the fixture library, the module path and the offset from its load base. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

void *fix_outer(int n);
int fix_widget(int by);

__attribute__((noinline)) void *prog_leaf(void) { return __builtin_return_address(0); }

static void show(const char *label, void *address) {
  Dl_info info;
  if (dladdr(address, &info) == 0) return;
  printf("%s %s %lu\n", label, info.dli_fname, (unsigned long)((char *)address - (char *)info.dli_fbase));
}

int main(void) {
  void *in_main = prog_leaf(); /* MARK main_call */
  show("main", in_main);
  show("lib", fix_outer(64));
  return fix_widget(2) == 3 ? 0 : 1;
}
