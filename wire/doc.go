// Package wire is the packed value format that carries a request from Go to
// Python in one cgo crossing.
//
// Go code appends tagged values to an Encoder; one C function
// (pybridge's db_decode) turns the whole buffer into Python objects. The
// format is private to databridge and may change with any release.
//
//	e := wire.NewEncoder(nil)
//	e.Dict(2)
//	e.Key(wire.KeyMethod); e.Str("GET")   // interned key, then a str
//	e.Str("n"); e.Int(42)                 // any value may be a key
//	// Python sees {"method": "GET", "n": 42}
//
// Every value starts with a one-byte tag; lengths and counts are
// little-endian uint32, numbers little-endian 8-byte values:
//
//	'N' None   'T' True   'F' False
//	'i' int64                   'n' int beyond int64: len + ASCII digits
//	'f' float64                 'u' uuid.UUID: len + canonical text
//	's' str: len + UTF-8 (invalid bytes decode with replacement)
//	'b' bytes: len + bytes      'k' interned str: 1-byte index into Keys
//	'd' dict: count, then count key/value pairs (a later key wins)
//	'l' list: count, then count values
//	'm' multi-value dict: as 'd' (the first value of each name), then one
//	    more value: None, or a dict of name -> list of all its values for
//	    the names that repeat (query params, headers, form fields)
package wire
