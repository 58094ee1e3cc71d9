module github.com/databridge/databridge

go 1.26.0

require (
	github.com/go-python/cpy3 v0.2.0
	github.com/goccy/go-json v0.10.5
	github.com/gorilla/mux v1.8.1
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.2
	golang.org/x/text v0.43.0
)

require golang.org/x/net v0.62.0

require github.com/gorilla/websocket v1.5.3
