// Module entry point.
#include "postgres_headers.hpp"
#include "version_setting.hpp"

extern "C" {

PG_MODULE_MAGIC;

void _PG_init(void)
{
	define_version_setting();
}

}  // extern "C"
