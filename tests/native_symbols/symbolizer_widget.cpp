// C++ fixture of lib/native/symbolizer_test.ts: a mangled method for demangling.
namespace ns {
struct Widget {
  int size;
  __attribute__((noinline)) int grow(int by);
};
int Widget::grow(int by) {
  size += by; // MARK grow_body
  return size;
}
}  // namespace ns

extern "C" int fix_widget(int by) {
  ns::Widget widget{1};
  return widget.grow(by);
}
