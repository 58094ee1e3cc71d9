package pybridge

import (
	python3 "github.com/go-python/cpy3"

	"github.com/databridge/databridge/router"
)

// The values the module's registration-time methods return, built with
// cpy3 calls: none of them is on a request's path.

// Int returns a new Python int.
func Int(_ GIL, v int) Object { return python3.PyLong_FromLong(v) }

// Pair returns the tuple (a, b), taking over both references.
func Pair(_ GIL, a, b Object) Object {
	t := python3.PyTuple_New(2)
	python3.PyTuple_SetItem(t, 0, a) // steals
	python3.PyTuple_SetItem(t, 1, b)
	return t
}

// PathTuple returns (plain, [(name, kind, regexp or None), ...]) for a
// parsed route path: what databridge._core.parse_path answers.
func PathTuple(gil GIL, p *router.Pattern) Object {
	params := python3.PyList_New(len(p.Params))
	for i, param := range p.Params {
		regexp := python3.Py_None
		if param.Regexp != "" {
			regexp = Str(gil, param.Regexp)
		} else {
			regexp.IncRef()
		}
		item := python3.PyTuple_New(3)
		python3.PyTuple_SetItem(item, 0, Str(gil, param.Name)) // steals
		python3.PyTuple_SetItem(item, 1, Str(gil, param.Kind.String()))
		python3.PyTuple_SetItem(item, 2, regexp)
		python3.PyList_SetItem(params, i, item)
	}
	return Pair(gil, Str(gil, p.Plain), params)
}

// StrPairs reads a list of (str, str) tuples, such as the test client's
// headers.
func StrPairs(_ GIL, list Object) ([][2]string, bool) {
	if !python3.PyList_Check(list) {
		return nil, false
	}
	n := python3.PyList_Size(list)
	pairs := make([][2]string, 0, n)
	for i := 0; i < n; i++ {
		item := python3.PyList_GetItem(list, i)
		if !python3.PyTuple_Check(item) || python3.PyTuple_Size(item) != 2 {
			return nil, false
		}
		k, v := python3.PyTuple_GetItem(item, 0), python3.PyTuple_GetItem(item, 1)
		if !python3.PyUnicode_Check(k) || !python3.PyUnicode_Check(v) {
			return nil, false
		}
		pairs = append(pairs, [2]string{python3.PyUnicode_AsUTF8(k), python3.PyUnicode_AsUTF8(v)})
	}
	return pairs, true
}
