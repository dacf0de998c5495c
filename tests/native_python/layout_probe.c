// Prints the offsets and sizes of every CPython struct field the frame walker
// (native/python/layout.zig) reads, measured by the compiler from this version's own headers and
// keyed by the Zig table's field names. check_layout.py compares the two.
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#if PY_VERSION_HEX < 0x030B0000
#include <frameobject.h>
#else
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#endif

#define OFF(type, field, key) printf("%s %zu\n", key, offsetof(type, field))
#define SIZE(type, key) printf("%s %zu\n", key, sizeof(type))

// Bitfield positions cannot be taken with offsetof: set one field, read the word.
static unsigned state_bit(int which) {
    PyASCIIObject object;
    memset(&object, 0, sizeof(object));
    if (which == 0) object.state.kind = 1;
    if (which == 1) object.state.compact = 1;
    if (which == 2) object.state.ascii = 1;
    unsigned word = 0;
    memcpy(&word, &object.state, sizeof(word));
    return word;
}

int main(void) {
    printf("minor %d\n", PY_MINOR_VERSION);
    OFF(PyObject, ob_type, "object_ob_type");
    OFF(PyVarObject, ob_size, "varobject_ob_size");
    OFF(PyBytesObject, ob_sval, "bytes_ob_sval");
    OFF(PyASCIIObject, length, "ascii_length");
    OFF(PyASCIIObject, state, "ascii_state");
    SIZE(PyASCIIObject, "ascii_sizeof");
    SIZE(PyCompactUnicodeObject, "compact_sizeof");
    printf("state_kind_shift %d\n", __builtin_ctz(state_bit(0)));
    printf("state_compact_mask %u\n", state_bit(1));
    printf("state_ascii_mask %u\n", state_bit(2));

    OFF(PyCodeObject, co_firstlineno, "code_co_firstlineno");
    OFF(PyCodeObject, co_name, "code_co_name");
    OFF(PyCodeObject, co_filename, "code_co_filename");
#if PY_VERSION_HEX < 0x030A0000
    OFF(PyCodeObject, co_lnotab, "code_linetable");
#else
    OFF(PyCodeObject, co_linetable, "code_linetable");
#endif
#if PY_VERSION_HEX >= 0x030B0000
    OFF(PyCodeObject, co_qualname, "code_co_qualname");
    OFF(PyCodeObject, co_code_adaptive, "code_co_code_adaptive");
    OFF(PyCodeObject, _co_firsttraceable, "code_co_firsttraceable");
    SIZE(_Py_CODEUNIT, "codeunit_sizeof");
#endif

#if PY_VERSION_HEX < 0x030B0000
    OFF(PyThreadState, frame, "tstate_frame");
    OFF(PyFrameObject, f_back, "frame_f_back");
    OFF(PyFrameObject, f_code, "frame_f_code");
    OFF(PyFrameObject, f_lasti, "frame_f_lasti");
    SIZE(((PyFrameObject *)0)->f_lasti, "frame_f_lasti_sizeof");
#elif PY_VERSION_HEX < 0x030D0000
    OFF(PyThreadState, cframe, "tstate_cframe");
    OFF(_PyCFrame, current_frame, "cframe_current_frame");
    OFF(_PyInterpreterFrame, f_code, "iframe_code");
    OFF(_PyInterpreterFrame, previous, "iframe_previous");
    OFF(_PyInterpreterFrame, prev_instr, "iframe_instr");
    OFF(_PyInterpreterFrame, owner, "iframe_owner");
    printf("owner_generator %d\n", FRAME_OWNED_BY_GENERATOR);
#else
    OFF(PyThreadState, current_frame, "tstate_current_frame");
    OFF(_PyInterpreterFrame, f_executable, "iframe_code");
    OFF(_PyInterpreterFrame, previous, "iframe_previous");
    OFF(_PyInterpreterFrame, instr_ptr, "iframe_instr");
    OFF(_PyInterpreterFrame, owner, "iframe_owner");
    printf("owner_generator %d\n", FRAME_OWNED_BY_GENERATOR);
#endif
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
    OFF(_PyInterpreterFrame, is_entry, "iframe_is_entry");
#endif
#if PY_VERSION_HEX >= 0x030C0000
    printf("owner_cstack %d\n", FRAME_OWNED_BY_CSTACK);
#endif
    return 0;
}
