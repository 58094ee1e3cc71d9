package pybridge

/*
#include "pybridge.h"
*/
import "C"

import "github.com/databridge/databridge/wire"

// The C decoder and encoder take their JSON depth limit from the parser's,
// so that what AppendJSON accepts is decoded, and can be echoed back.
func init() { C.db_max_json_depth = C.int(wire.MaxJSONDepth) }
