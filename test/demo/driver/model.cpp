#include "model.hpp"

namespace demo {

const char *stage_short_name(Stage stage)
{
	switch (stage) {
	case kSchedule: return "sched";
	case kChained: return "chain";
	case kRelease: return "rel";
	case kAsync: return "async";
	case kClose: return "close";
	case kInvoice: return "inv";
	case kCollect: return "coll";
	case kExecute: return "exec";
	case kMonitor: return "mon";
	case kStageCount: break;
	}
	return "?";
}

}  // namespace demo
