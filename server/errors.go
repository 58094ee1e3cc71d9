package server

import (
	"log"
	"net/http"
	"strconv"

	json "github.com/goccy/go-json"
)

// Fixed error bodies, shaped like Python's json.dumps output so that errors
// from Go and from Python handlers look alike.
var (
	bodyNotFound         = []byte(`{"error": "Not Found"}`)
	bodyMethodNotAllowed = []byte(`{"error": "Method Not Allowed"}`)
	bodyTooLarge         = []byte(`{"error": "request body too large"}`)
	bodyInternal         = []byte(`{"error": "Internal Server Error"}`)
)

// errorBody returns {"error": msg} with msg JSON-escaped.
func errorBody(msg string) []byte {
	q, err := json.Marshal(msg)
	if err != nil { // cannot happen for a string; keep the response valid JSON anyway
		q = []byte(strconv.Quote(msg))
	}
	b := make([]byte, 0, len(`{"error": }`)+len(q))
	b = append(b, `{"error": `...)
	b = append(b, q...)
	return append(b, '}')
}

// writeError writes an error response with a JSON body. It must be called
// before anything else was written to w. Any header already set (such as
// Allow) is kept.
func writeError(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

// logger is where the package reports what it cannot report to a client:
// backend panics, invalid responses and http.Server errors. Its lines go
// through the standard logger, with its current output, flags and prefix,
// followed by "databridge: ".
var logger = log.New(stdLog{}, "databridge: ", 0)

// stdLog passes each line to the standard logger.
type stdLog struct{}

func (stdLog) Write(p []byte) (int, error) {
	if err := log.Output(3, string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
