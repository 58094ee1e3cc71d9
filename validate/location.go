package validate

import (
	"fmt"
	"strconv"
)

// location is where a parameter comes from; its String is the first
// element of a Detail's Loc.
type location uint8

const (
	inPath location = iota
	inQuery
	inHeader
)

func (l location) String() string {
	switch l {
	case inPath:
		return "path"
	case inQuery:
		return "query"
	case inHeader:
		return "header"
	}
	return "location(" + strconv.Itoa(int(l)) + ")"
}

func parseLocation(s string) (location, error) {
	switch s {
	case "path":
		return inPath, nil
	case "query":
		return inQuery, nil
	case "header":
		return inHeader, nil
	}
	return 0, fmt.Errorf(`"in" is %q, want "path", "query" or "header"`, s)
}
