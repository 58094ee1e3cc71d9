package validate

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/databridge/databridge/wire"
)

// run compiles spec, checks r with an encoder that already holds a value
// (as the server's request dict precedes the kwargs), verifies that Check
// appended exactly one value or nothing, and returns the printed kwargs
// ("" on failure) and the details in the form of detailString.
func run(t testing.TB, spec string, r *Request) (string, []string) {
	t.Helper()
	v, err := Compile([]byte(spec))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return runV(t, v, r)
}

func runV(t testing.TB, v *Validator, r *Request) (string, []string) {
	t.Helper()
	kwargs, details, err := checkOnce(v, r)
	if err != nil {
		t.Fatal(err)
	}
	return kwargs, details
}

// checkOnce is runV reporting a broken contract as an error, for use off
// the test goroutine.
func checkOnce(v *Validator, r *Request) (string, []string, error) {
	e := wire.NewEncoder(nil)
	e.Str("request")
	before := bytes.Clone(e.Buf)
	ds := v.Check(e, r)
	if !bytes.HasPrefix(e.Buf, before) {
		return "", nil, fmt.Errorf("Check changed the bytes before its own")
	}
	if ds != nil {
		if len(e.Buf) != len(before) {
			return "", nil, fmt.Errorf("Check returned %d details but appended %d bytes", len(ds), len(e.Buf)-len(before))
		}
		if len(ds) == 0 {
			return "", nil, fmt.Errorf("Check returned an empty, non-nil slice")
		}
		for _, d := range ds {
			if len(d.Loc) == 0 || d.Msg == "" || d.Type == "" {
				return "", nil, fmt.Errorf("incomplete detail %+v", d)
			}
		}
		return "", detailStrings(ds), nil
	}
	got, err := decodeWire(e.Buf[len(before):])
	if err != nil {
		return "", nil, fmt.Errorf("kwargs do not decode: %v", err)
	}
	if !strings.HasPrefix(got, "{") {
		return "", nil, fmt.Errorf("kwargs are not a dict: %s", got)
	}
	return got, nil, nil
}

// detailString prints a Detail as `"body" "tags" 1 | int_type | Input
// should be a valid integer`: strings of the Loc quoted, ints bare, so
// that a test sees which is which.
func detailString(d Detail) string {
	var loc []string
	for _, x := range d.Loc {
		switch x := x.(type) {
		case string:
			loc = append(loc, fmt.Sprintf("%q", x))
		case int:
			loc = append(loc, fmt.Sprint(x))
		default:
			loc = append(loc, fmt.Sprintf("?%T(%v)", x, x))
		}
	}
	return strings.Join(loc, " ") + " | " + d.Type + " | " + d.Msg
}

func detailStrings(ds []Detail) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = detailString(d)
	}
	return out
}

// checkCase is one row of the Check tables: a request and either the
// kwargs it gives or its details.
type checkCase struct {
	name    string
	spec    string
	req     Request
	kwargs  string   // the printed kwargs dict, when valid
	details []string // detailString of each Detail, when not
}

func runCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			kwargs, details := run(t, c.spec, &req)
			if kwargs != c.kwargs || !equalStrings(details, c.details) {
				t.Errorf("got kwargs %s, details:\n\t%s\nwant kwargs %s, details:\n\t%s",
					kwargs, strings.Join(details, "\n\t"), c.kwargs, strings.Join(c.details, "\n\t"))
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// query returns a spec of one query param named x with the given
// schema (JSON) and required flag.
func query(schema string, required bool) string {
	return fmt.Sprintf(`{"params": [{"name": "x", "in": "query", "required": %t, "schema": %s}]}`, required, schema)
}

// body returns a spec with only a required body of the given schema.
func body(schema string) string {
	return `{"params": [], "body": {"required": true, "schema": ` + schema + `}}`
}
