package router

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The index narrows the groups a path is tried against, so that Match does
// not grow with the number of routes. It is a tree of the "/"-separated
// segments of the Canonical patterns:
//
//   - a segment of literal text is a literal edge, taken by a path segment
//     of exactly that text;
//   - a segment with parameters whose regexps cannot match a "/" (str, int,
//     float, uuid and most user regexps), alone or mixed with literal text
//     as in "report.{0:[^/]+}", is a wildcard edge, taken by any path
//     segment, the empty one included;
//   - at the first segment with a parameter that may match a "/" (path, or
//     a regexp such as ".+"), the pattern stops in the tree: its group is a
//     fallback of the node reached so far, a candidate for every path that
//     reaches that node.
//
// A pattern whose parameters cannot match "/" matches a path only where the
// path's slashes are the pattern's literal ones, so only a path with the
// pattern's segments (a literal one equal, a wildcard one anything) can
// match it. The index therefore yields a superset of the groups that can
// match a path, and gorilla/mux still decides, in registration order, as
// the linear scan did.
type node struct {
	literal  map[string]*node // by segment text
	wild     *node
	terminal []int32 // groups whose pattern ends here, by registration index
	fallback []int32 // groups that stop being indexed here
}

// maxCandidates bounds the candidates a Match collects from the index.
// Beyond it Match tries every group, as if the table had no index.
const maxCandidates = 64

// candidates is the groups Match tries for one path, as indices into
// Router.groups, sorted.
type candidates struct {
	n   int
	idx [maxCandidates]int32
}

// add merges the sorted list into c, keeping c sorted. It reports false if
// c has no room for it.
func (c *candidates) add(list []int32) bool {
	if c.n+len(list) > maxCandidates {
		return false
	}
	for _, gi := range list {
		j := c.n
		for j > 0 && c.idx[j-1] > gi {
			c.idx[j] = c.idx[j-1]
			j--
		}
		c.idx[j] = gi
		c.n++
	}
	return true
}

// collect adds to c the groups of n and below it that rest may match: rest
// is what follows the path's segments so far, after their "/", and end
// tells that no segment is left. It reports false if c overflows.
func (n *node) collect(rest string, end bool, c *candidates) bool {
	if !c.add(n.fallback) {
		return false
	}
	if end {
		return c.add(n.terminal)
	}
	seg, after, more := strings.Cut(rest, "/")
	if child := n.literal[seg]; child != nil && !child.collect(after, !more, c) {
		return false
	}
	return n.wild == nil || n.wild.collect(after, !more, c)
}

// insert indexes the group gi of the Canonical pattern canon.
func (n *node) insert(canon string, gi int32) {
	rest := canon[1:] // Parse: a pattern starts with "/"
	for {
		seg, kind, after, more := nextSegment(rest)
		var child *node
		switch kind {
		case segUnindexed:
			n.fallback = append(n.fallback, gi)
			return
		case segLiteral:
			if child = n.literal[seg]; child == nil {
				if n.literal == nil {
					n.literal = make(map[string]*node)
				}
				child = new(node)
				n.literal[seg] = child
			}
		case segWild:
			if n.wild == nil {
				n.wild = new(node)
			}
			child = n.wild
		}
		n = child
		if !more {
			n.terminal = append(n.terminal, gi)
			return
		}
		rest = after
	}
}

// segment kinds; see node.
const (
	segLiteral = iota
	segWild
	segUnindexed
)

// nextSegment splits the first segment off rest, a Canonical pattern after
// a "/" of its literal text: seg, its kind, what follows its "/" and
// whether there was one. A "/" in a parameter's regexp does not end a
// segment; its parameter makes the segment segUnindexed anyway.
func nextSegment(rest string) (seg string, kind int, after string, more bool) {
	kind = segLiteral
	i := 0
	for i < len(rest) && rest[i] != '/' {
		if rest[i] != '{' {
			i++
			continue
		}
		end := closingBrace(rest, i) // Parse balanced the braces
		_, expr, _ := strings.Cut(rest[i+1:end], ":")
		if mayMatchSlash(expr) {
			return "", segUnindexed, "", false
		}
		kind = segWild
		i = end + 1
	}
	seg = rest[:i]
	// A regexp matches an invalid UTF-8 byte of the path as U+FFFD, so a
	// literal with U+FFFD may match other bytes: leave it to mux.
	if kind == segLiteral && strings.ContainsRune(seg, utf8.RuneError) {
		kind = segWild
	}
	if i < len(rest) {
		return seg, kind, rest[i+1:], true
	}
	return seg, kind, "", false
}

// mayMatchSlash reports whether the regexp expr may match a string with a
// "/" in it. It errs towards true: every character of a match is one that a
// literal, a character class or "." of expr matched, so it looks for a "/"
// among those.
func mayMatchSlash(expr string) bool {
	re, err := syntax.Parse(expr, syntax.Perl) // as regexp.Compile does
	return err != nil || reMayMatchSlash(re)
}

func reMayMatchSlash(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return false
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if r == '/' || re.Flags&syntax.FoldCase != 0 && foldsTo(r, '/') {
				return true
			}
		}
		return false
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= '/' && '/' <= re.Rune[i+1] {
				return true
			}
		}
		return false
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat,
		syntax.OpConcat, syntax.OpAlternate:
		for _, sub := range re.Sub {
			if reMayMatchSlash(sub) {
				return true
			}
		}
		return false
	}
	return true // OpAnyChar, OpAnyCharNotNL, and any op unknown here
}

// foldsTo reports whether r and t are equal under simple case folding.
func foldsTo(r, t rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f == t {
			return true
		}
	}
	return r == t
}
