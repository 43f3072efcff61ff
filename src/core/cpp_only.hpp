// Included last by every source file of the pure C++ core. The core must build
// and run without a server (unit tests, fuzzing), so a PostgreSQL header that
// one of its includes pulled in is a layering bug worth a compile error.
#pragma once

#if defined(POSTGRES_H) || defined(PG_VERSION_NUM) || defined(FMGR_H)
#error "src/core is the pure C++ core: it must not include PostgreSQL headers"
#endif
