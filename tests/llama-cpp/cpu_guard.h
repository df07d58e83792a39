#pragma once
// Whether this CPU can run code built with -march=sapphirerapids short of AMX itself.
bool cpu_runs_avx512_code();
