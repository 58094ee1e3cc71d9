package validate

import json "github.com/goccy/go-json"

// errorBody is the JSON of a 422 response.
type errorBody struct {
	Error   string   `json:"error"`
	Details []Detail `json:"details"`
}

// ErrorBody renders the 422 body of details:
//
//	{"error":"validation failed","details":[{"loc":["query","limit"],"msg":"...","type":"..."}]}
//
// Strings that are not valid UTF-8 (a client's query key, say) are
// rendered with U+FFFD, so the body is always valid JSON.
func ErrorBody(details []Detail) []byte {
	if details == nil {
		details = []Detail{}
	}
	b, err := json.Marshal(errorBody{Error: "validation failed", Details: details})
	if err != nil { // cannot happen with strings and ints
		return []byte(`{"error":"validation failed","details":[]}`)
	}
	return b
}
