package server

import "strings"

// Field is one header field.
type Field struct {
	Name, Value string
}

// Header is an ordered list of header fields, repeats kept (Set-Cookie).
// Names compare case-insensitively. A request's names are lower-case; a
// response's are written as given. The zero value is empty and ready; a
// Header is reused across requests, so its methods do not allocate once
// its backing array has grown.
type Header struct {
	fields []Field
}

// Fields returns the fields in order. The slice is shared with h.
func (h *Header) Fields() []Field { return h.fields }

// Len is the number of fields.
func (h *Header) Len() int { return len(h.fields) }

// Add appends a field.
func (h *Header) Add(name, value string) {
	h.fields = append(h.fields, Field{name, value})
}

// Set replaces every field called name by one with value.
func (h *Header) Set(name, value string) {
	h.Del(name)
	h.Add(name, value)
}

// Get returns the value of the first field called name, or "".
func (h *Header) Get(name string) string {
	v, _ := h.Lookup(name)
	return v
}

// Lookup returns the value of the first field called name.
func (h *Header) Lookup(name string) (string, bool) {
	for i := range h.fields {
		if strings.EqualFold(h.fields[i].Name, name) {
			return h.fields[i].Value, true
		}
	}
	return "", false
}

// Has reports whether a field called name is present.
func (h *Header) Has(name string) bool {
	_, ok := h.Lookup(name)
	return ok
}

// Values returns the values of every field called name, in order. It
// allocates when there is more than none.
func (h *Header) Values(name string) []string {
	var vs []string
	for i := range h.fields {
		if strings.EqualFold(h.fields[i].Name, name) {
			vs = append(vs, h.fields[i].Value)
		}
	}
	return vs
}

// Del removes every field called name.
func (h *Header) Del(name string) {
	out := h.fields[:0]
	for _, f := range h.fields {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	clear(h.fields[len(out):])
	h.fields = out
}

// Reset empties h, keeping its capacity.
func (h *Header) Reset() {
	clear(h.fields)
	h.fields = h.fields[:0]
}
