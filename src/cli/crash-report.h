#pragma once
// What muse says when a fault ends it (SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGABRT): one line on
// stderr that names the signal, muse's version and the CPU with its features, then a
// backtrace; then the signal is raised again, so that the process dies by it (a shell sees
// 128 + N, a service manager the signal, a core dump still happens). The line is what a
// SIGILL report needs most: a binary built for another CPU (-march=native) dies that way on
// the first kernel that uses an instruction this CPU lacks.
namespace muse::cli {

// Installs the handlers, with the one-line system summary (engine/system-info.h) for the
// report: the CPU and the versions before the handlers, the kernels after them, since asking
// ggml for those runs its CPU code (a SIGILL there is reported too). Call once, from main(),
// before any work starts; a handler that is already there (a sanitizer's) is kept, since its
// report says more. Covers every thread; the alternate stack (for a stack overflow's report)
// only the calling one.
void crash_report_install();

}  // namespace muse::cli
