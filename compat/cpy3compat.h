/*
 * cpy3compat.h — lets github.com/go-python/cpy3 v0.2.0 (written for CPython 3.7)
 * compile and load on CPython 3.9–3.13 without touching its source.
 *
 * setup.py force-includes this file into every cgo compilation through
 * CGO_CFLAGS="-I<python include> -include <this file>". Rules it must keep:
 *   - no #include <Python.h> here (it clashes with cgo's own wrappers);
 *   - runtime/cgo is compiled with the same flags but without Python's include
 *     path, so <patchlevel.h> is read only when it exists;
 *   - assembler files see it too, hence the __ASSEMBLER__ guard.
 * Each stub exists because the symbol is referenced by cpy3 and CPython loads
 * extensions with RTLD_NOW: a missing symbol fails the import.
 */
#ifndef DATABRIDGE_CPY3COMPAT_H
#define DATABRIDGE_CPY3COMPAT_H
#ifndef __ASSEMBLER__

#if defined(__has_include)
#if __has_include(<patchlevel.h>)
#include <patchlevel.h>
#endif
#endif

#ifdef PY_VERSION_HEX
/* No system headers here: runtime/cgo defines _GNU_SOURCE after this file is
 * read, and an early <features.h> would hide the GNU functions it needs.
 * __WCHAR_TYPE__ is the compiler's spelling of wchar_t. */

#if PY_VERSION_HEX >= 0x03090000
/* Removed in 3.9: free lists are no longer user-clearable. */
static inline int PyDict_ClearFreeList(void) { return 0; }
static inline int PyFloat_ClearFreeList(void) { return 0; }
static inline int PyList_ClearFreeList(void) { return 0; }
/* Removed in 3.9: only meaningful after fork(), which databridge never does. */
static inline void PyEval_ReInitThreads(void) {}
#endif

#if PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030D0000
/* Declared by 3.9–3.12 headers but not exported by libpython: send cpy3's
 * reference to a local stub. databridge never sets a wakeup fd from Go. */
#define PySignal_SetWakeupFd databridge_PySignal_SetWakeupFd
static inline int databridge_PySignal_SetWakeupFd(int fd) { (void)fd; return -1; }
#endif

#if PY_VERSION_HEX >= 0x030D0000
/* 3.13 dropped these from the headers; libpython still exports them. */
extern void Py_SetPath(const __WCHAR_TYPE__ *);
extern int PyEval_ThreadsInitialized(void);
extern void PySys_SetPath(const __WCHAR_TYPE__ *);
extern void PySys_AddWarnOption(const __WCHAR_TYPE__ *);
extern void PySys_AddXOption(const __WCHAR_TYPE__ *);
/* Gone entirely in 3.13. */
static inline int Py_SetStandardStreamEncoding(const char *encoding, const char *errors) {
    (void)encoding; (void)errors; return -1;
}
#endif

#endif /* PY_VERSION_HEX */
#endif /* __ASSEMBLER__ */
#endif /* DATABRIDGE_CPY3COMPAT_H */
