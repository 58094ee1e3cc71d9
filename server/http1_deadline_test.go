package server

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

func TestKeepDeadline(t *testing.T) {
	now := time.Now()
	const timeout = 16 * time.Second // slack: 1 s
	for _, tt := range []struct {
		name  string
		armed time.Time
		keep  bool
	}{
		{"none armed", time.Time{}, false},
		{"the same", now.Add(timeout), true},
		{"a little later", now.Add(timeout + 900*time.Millisecond), true},
		{"the slack later", now.Add(timeout + time.Second), true},
		{"too late", now.Add(timeout + 1100*time.Millisecond), false},
		{"earlier (never early)", now.Add(timeout - time.Millisecond), false},
		{"in the past", time.Unix(1, 0), false},
	} {
		if got := keepDeadline(tt.armed, now.Add(timeout), timeout); got != tt.keep {
			t.Errorf("%s: keep %v, want %v", tt.name, got, tt.keep)
		}
	}
}

func TestHeadBuffered(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next", true},
		{"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n", false}, // empty lines before it are not its end
		{"\r\nGET / HTTP/1.1\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: a\r\n", false},
		{"GET / HTTP/1.1\nHost: a\n\n", false}, // bare LF: the parser decides, under the deadline
	} {
		c := &conn{br: bufio.NewReader(strings.NewReader(tt.in))}
		c.br.Peek(1)
		if got := c.headBuffered(); got != tt.want {
			t.Errorf("%q: %v, want %v", tt.in, got, tt.want)
		}
	}
}
