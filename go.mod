module github.com/databridge/databridge

go 1.26

require (
	github.com/go-python/cpy3 v0.2.0
	github.com/goccy/go-json v0.10.5
	github.com/gorilla/mux v1.8.1
)
