// Command goserver is the pure-Go ceiling of the databridge benchmark suite:
// the scenarios of bench/apps served by net/http and gorilla/mux, with JSON
// from goccy/go-json (the validated and invalid scenarios check their input
// by hand, as the apps' pydantic model and Query bounds do). bench/run.py
// builds it with
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
	"unicode/utf8"

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

// newUser is the body of the validated scenario: the NewUser pydantic model of
// bench/apps, checked by hand (name 1-50 characters, 0 <= age <= 150, email
// optional). Pointers tell a missing field from a zero value.
type newUser struct {
	Name  *string `json:"name"`
	Age   *int64  `json:"age"`
	Email *string `json:"email"`
}

type nameReply struct {
	Name string `json:"name"`
}

// problem is one entry of a 422 body, in the shape databridge answers.
type problem struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

type invalidReply struct {
	Error   string    `json:"error"`
	Details []problem `json:"details"`
}

func unprocessable(w http.ResponseWriter, details []problem) {
	writeJSON(w, http.StatusUnprocessableEntity, invalidReply{Error: "validation failed", Details: details})
}

func createUser(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var user newUser
	if err := json.Unmarshal(raw, &user); err != nil {
		unprocessable(w, []problem{{Loc: []string{"body"}, Msg: err.Error(), Type: "json_invalid"}})
		return
	}
	var details []problem
	switch {
	case user.Name == nil:
		details = append(details, problem{[]string{"body", "name"}, "Field required", "missing"})
	case utf8.RuneCountInString(*user.Name) < 1:
		details = append(details, problem{[]string{"body", "name"}, "String should have at least 1 character", "string_too_short"})
	case utf8.RuneCountInString(*user.Name) > 50:
		details = append(details, problem{[]string{"body", "name"}, "String should have at most 50 characters", "string_too_long"})
	}
	switch {
	case user.Age == nil:
		details = append(details, problem{[]string{"body", "age"}, "Field required", "missing"})
	case *user.Age < 0:
		details = append(details, problem{[]string{"body", "age"}, "Input should be greater than or equal to 0", "greater_than_equal"})
	case *user.Age > 150:
		details = append(details, problem{[]string{"body", "age"}, "Input should be less than or equal to 150", "less_than_equal"})
	}
	if details != nil {
		unprocessable(w, details)
		return
	}
	writeJSON(w, http.StatusCreated, nameReply{Name: *user.Name})
}

type searchReply struct {
	Q     string `json:"q"`
	Page  int64  `json:"page"`
	Limit int64  `json:"limit"`
}

// search is the invalid scenario's route: q required, page an int (default 1),
// 1 <= limit <= 100 (default 10); anything else is a 422.
func search(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	reply := searchReply{Page: 1, Limit: 10}
	var details []problem
	if values, ok := query["q"]; ok && len(values) > 0 {
		reply.Q = values[0]
	} else {
		details = append(details, problem{[]string{"query", "q"}, "Field required", "missing"})
	}
	if values, ok := query["page"]; ok && len(values) > 0 {
		page, err := strconv.ParseInt(values[0], 10, 64)
		if err != nil {
			details = append(details, problem{[]string{"query", "page"}, "Input should be a valid integer, unable to parse string as an integer", "int_parsing"})
		}
		reply.Page = page
	}
	if values, ok := query["limit"]; ok && len(values) > 0 {
		limit, err := strconv.ParseInt(values[0], 10, 64)
		switch {
		case err != nil:
			details = append(details, problem{[]string{"query", "limit"}, "Input should be a valid integer, unable to parse string as an integer", "int_parsing"})
		case limit < 1:
			details = append(details, problem{[]string{"query", "limit"}, "Input should be greater than or equal to 1", "greater_than_equal"})
		case limit > 100:
			details = append(details, problem{[]string{"query", "limit"}, "Input should be less than or equal to 100", "less_than_equal"})
		}
		reply.Limit = limit
	}
	if details != nil {
		unprocessable(w, details)
		return
	}
	writeJSON(w, http.StatusOK, reply)
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
	r.HandleFunc("/go/hello", hello).Methods(http.MethodGet) // scenario 10: the same handler
	r.HandleFunc("/users/{user_id:[0-9]+}", user).Methods(http.MethodGet)
	r.HandleFunc("/echo", echo).Methods(http.MethodPost)
	r.HandleFunc("/sleep", sleep).Methods(http.MethodGet)
	r.HandleFunc("/10k", text).Methods(http.MethodGet)
	r.HandleFunc("/users", createUser).Methods(http.MethodPost)
	r.HandleFunc("/search", search).Methods(http.MethodGet)
	return r
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 0, "port to listen on")
	flag.Parse()

	srv := &http.Server{
		Addr:              net.JoinHostPort(*host, strconv.Itoa(*port)),
		Handler:           newRouter(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	// HTTP/1.1 and h2c with prior knowledge on the same port (scenario 12).
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	log.Fatal(srv.ListenAndServe())
}
