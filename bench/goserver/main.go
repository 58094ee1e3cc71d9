// Command goserver is the pure-Go ceiling of the databridge benchmark suite:
// the scenarios of bench/apps served by net/http and gorilla/mux, with JSON
// from goccy/go-json. bench/run.py builds it with
//
//	go build -o bench/.venv/goserver ./bench/goserver
//
// and runs it pinned to one CPU, so GOMAXPROCS follows the affinity mask (1).
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/gorilla/mux"
)

// text10K is the 10240-byte body of the text10k scenario (see bench/apps/_common.py).
var text10K = []byte(strings.Repeat("0123456789abcdef", 640))

// sleepFor is the pause of the sleep scenario.
const sleepFor = time.Millisecond

type message struct {
	Message string `json:"message"`
}

type userReply struct {
	ID   int     `json:"id"`
	Page *string `json:"page"`
}

type okReply struct {
	OK bool `json:"ok"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func hello(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, message{Message: "hello"})
}

func user(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(mux.Vars(r)["user_id"])
	if err != nil { // digits that overflow int
		http.NotFound(w, r)
		return
	}
	reply := userReply{ID: id}
	if values, ok := r.URL.Query()["page"]; ok && len(values) > 0 {
		reply.Page = &values[0]
	}
	writeJSON(w, http.StatusOK, reply)
}

func echo(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var payload any
	if err := json.Unmarshal(raw, &payload); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusOK, payload)
}

func sleep(w http.ResponseWriter, _ *http.Request) {
	time.Sleep(sleepFor)
	writeJSON(w, http.StatusOK, okReply{OK: true})
}

func text(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(text10K)
}

func newRouter() *mux.Router {
	r := mux.NewRouter()
	r.HandleFunc("/hello", hello).Methods(http.MethodGet)
	r.HandleFunc("/hello-async", hello).Methods(http.MethodGet)
	r.HandleFunc("/users/{user_id:[0-9]+}", user).Methods(http.MethodGet)
	r.HandleFunc("/echo", echo).Methods(http.MethodPost)
	r.HandleFunc("/sleep", sleep).Methods(http.MethodGet)
	r.HandleFunc("/10k", text).Methods(http.MethodGet)
	return r
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 8102, "port to listen on")
	flag.Parse()

	srv := &http.Server{
		Addr:              net.JoinHostPort(*host, strconv.Itoa(*port)),
		Handler:           newRouter(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
