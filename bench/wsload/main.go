// Command wsload is bench/ws.py's load generator: -c connections each echo
// -size byte text messages (one in flight per connection) for -d, then it
// prints the message rate as JSON.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8000/ws", "endpoint")
	conns := flag.Int("c", 64, "connections")
	size := flag.Int("size", 64, "message bytes")
	dur := flag.Duration("d", 10*time.Second, "duration")
	warm := flag.Duration("warmup", 2*time.Second, "warm-up")
	flag.Parse()

	msg := []byte(strings.Repeat("x", *size))
	var count atomic.Int64
	var errs atomic.Int64
	var measuring atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	lat := make([][]time.Duration, *conns)
	for i := 0; i < *conns; i++ {
		c, _, err := websocket.DefaultDialer.Dial(*url, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func(i int, c *websocket.Conn) {
			defer wg.Done()
			defer c.Close()
			for {
				select {
				case <-stop:
					c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
					return
				default:
				}
				t := time.Now()
				if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
					errs.Add(1)
					return
				}
				_, got, err := c.ReadMessage()
				if err != nil || len(got) != len(msg) {
					errs.Add(1)
					return
				}
				if measuring.Load() {
					count.Add(1)
					if len(lat[i]) < 200000 {
						lat[i] = append(lat[i], time.Since(t))
					}
				}
			}
		}(i, c)
	}
	time.Sleep(*warm)
	measuring.Store(true)
	start := time.Now()
	time.Sleep(*dur)
	measuring.Store(false)
	n := count.Load()
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	p := func(q float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"messages_per_s": float64(n) / elapsed.Seconds(), "messages": n, "errors": errs.Load(),
		"p50_ms": p(0.5), "p99_ms": p(0.99), "connections": *conns, "size": *size,
	})
}
