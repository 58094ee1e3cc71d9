package readall

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestAppend(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	got, err := Append([]byte("head:"), iotest.OneByteReader(strings.NewReader(big)))
	if err != nil || string(got) != "head:"+big {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	buf := make([]byte, 0, 8)
	got, err = Append(buf, strings.NewReader("abc"))
	if err != nil || string(got) != "abc" || &got[0] != &buf[:1][0] {
		t.Fatalf("the caller's buffer is used while it has room: %q %v", got, err)
	}
	boom := errors.New("boom")
	got, err = Append(nil, io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || !bytes.Equal(got, []byte("ab")) {
		t.Fatalf("got %q, %v", got, err)
	}
}
