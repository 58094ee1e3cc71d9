package pybridge

import (
	"strconv"
	"strings"
	"testing"

	"github.com/databridge/databridge/wire"
)

// nested is JSON of depth arrays and objects, alternating, around 1.
func nested(depth int) string {
	var open, close strings.Builder
	for i := range depth {
		if i%2 == 0 {
			open.WriteString(`[`)
			close.WriteString(`]`)
		} else {
			open.WriteString(`{"k":`)
			close.WriteString(`}`)
		}
	}
	c := []byte(close.String())
	for i, j := 0, len(c)-1; i < j; i, j = i+1, j-1 {
		c[i], c[j] = c[j], c[i]
	}
	return open.String() + "1" + string(c)
}

// bodyRequest is a request dict whose body is the wire value of body.
func bodyRequest(t *testing.T, body string) ([]byte, error) {
	t.Helper()
	var e wire.Encoder
	e.Dict(1)
	e.Key(wire.KeyBody)
	err := wire.AppendJSON(&e, []byte(body))
	return e.Buf, err
}

// TestJSONDepthLimitsAgree: the parser (wire.AppendJSON), the C decoder
// and the C encoder share one depth limit, wire.MaxJSONDepth. A body at the
// limit is parsed, decoded and echoed back; one level more is refused by
// the parser (the server's 400), and the C side refuses it too.
func TestJSONDepthLimitsAgree(t *testing.T) {
	at := nested(wire.MaxJSONDepth)
	req, err := bodyRequest(t, at)
	if err != nil {
		t.Fatalf("AppendJSON refuses a body at the limit: %v", err)
	}
	status, _, body, _ := run(t, `request["body"]`, req)
	if status != 200 || body != at {
		t.Fatalf("echo of a body at the limit: %d %.80s", status, body)
	}

	if _, err := bodyRequest(t, nested(wire.MaxJSONDepth+1)); err == nil || !strings.Contains(err.Error(), "nested too deep") {
		t.Fatalf("AppendJSON of a body one past the limit: %v", err)
	}

	// The decoder: a wire body one level deeper than AppendJSON writes.
	var e wire.Encoder
	e.Dict(1)
	e.Key(wire.KeyBody)
	for range wire.MaxJSONDepth + 1 {
		e.List(1)
	}
	e.Int(1)
	if status, _, _, reports := run(t, `request["body"]`, e.Buf); status != 500 || reports != 1 {
		t.Errorf("decoding a body past the limit: %d, %d reports", status, reports)
	}

	// The encoder: a handler's value at the limit encodes; one level more
	// is a 500 with a report.
	for _, tt := range []struct {
		depth  int
		status int
	}{{wire.MaxJSONDepth, 200}, {wire.MaxJSONDepth + 1, 500}} {
		expr := `__import__("json").loads(` + strconv.Quote(nested(tt.depth)) + `)`
		status, _, body, reports := run(t, expr, emptyRequest())
		if status != tt.status || (status == 200) != (reports == 0) {
			t.Errorf("encoding depth %d: %d, %d reports", tt.depth, status, reports)
		}
		if status == 200 && body != nested(tt.depth) {
			t.Errorf("encoding depth %d: %.80s", tt.depth, body)
		}
	}
}
