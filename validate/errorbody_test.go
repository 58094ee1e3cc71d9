package validate

import (
	"encoding/json"
	"testing"
)

func TestErrorBody(t *testing.T) {
	tests := []struct {
		name    string
		details []Detail
		want    string
	}{
		// The shape of docs/route-spec.md.
		{"one", []Detail{{Loc: []any{"query", "limit"}, Msg: "Input should be less than or equal to 100", Type: "less_than_equal"}},
			`{"error":"validation failed","details":[{"loc":["query","limit"],"msg":"Input should be less than or equal to 100","type":"less_than_equal"}]}`},
		// Array indexes stay numbers.
		{"index", []Detail{{Loc: []any{"body", "tags", 1}, Msg: "m", Type: "int_type"}},
			`{"error":"validation failed","details":[{"loc":["body","tags",1],"msg":"m","type":"int_type"}]}`},
		// No details still gives a list.
		{"nil", nil, `{"error":"validation failed","details":[]}`},
		// A client's key that is not UTF-8 is replaced, so the JSON stays valid.
		{"invalid utf-8", []Detail{{Loc: []any{"query", "a\xffb"}, Msg: "Extra inputs are not permitted", Type: "extra_forbidden"}},
			`{"error":"validation failed","details":[{"loc":["query","a\ufffdb"],"msg":"Extra inputs are not permitted","type":"extra_forbidden"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ErrorBody(tt.details)
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

// TestMessages checks the renderings that feed the msgs.
func TestMessages(t *testing.T) {
	tests := []struct{ got, want string }{
		{pyFloat(1), "1.0"},
		{pyFloat(0.5), "0.5"},
		{pyFloat(1e-05), "1e-05"},
		{pyFloat(0.0001), "0.0001"},
		{pyFloat(1e16), "1e+16"},
		{pyFloat(123456789.5), "123456789.5"},
		{pyFloat(0), "0.0"},
		{pyRepr("it's"), `'it\'s'`},
		{pyRepr(json.Number("2")), "2"},
		{pyRepr(nil), "None"},
		{pyRepr([]any{json.Number("1")}), "[1]"},
		{alternatives([]any{"a"}), "'a'"},
		{alternatives([]any{"a", "b"}), "'a' or 'b'"},
		{alternatives([]any{"a", "b", "c"}), "'a', 'b' or 'c'"},
		{clip("é" + string(make([]byte, maxMsg))), "é" + string(make([]byte, maxMsg-2)) + "..."},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}
