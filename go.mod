module github.com/databridge/databridge

go 1.26.0

require (
	github.com/andybalholm/brotli v1.2.0
	github.com/go-python/cpy3 v0.2.0
	github.com/goccy/go-json v0.10.5
	github.com/gorilla/mux v1.8.1
	github.com/klauspost/compress v1.20.1
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.2
	golang.org/x/text v0.43.0
)

require golang.org/x/net v0.62.0

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_golang v1.25.0
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

require github.com/gorilla/websocket v1.5.3
