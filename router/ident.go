package router

import "unicode"

// isIdentifier reports whether s is a Python identifier, as str.isidentifier
// decides: an XID_Start character or "_", then XID_Continue characters.
// Keywords such as "class" are identifiers too, as in Python.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c < 0x80 { // fast path for ASCII names
			if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
				continue
			}
			return false
		}
		if i == 0 && !xidStart(c) || i > 0 && !xidContinue(c) {
			return false
		}
	}
	return true
}

// xidStart reports whether c is in Unicode's XID_Start: ID_Start without
// the characters whose NFKC form cannot start an identifier.
func xidStart(c rune) bool {
	switch c {
	case 0x0E33, 0x0EB3, 0xFF9E, 0xFF9F:
		return false
	}
	return idStart(c) && !notXID(c)
}

// xidContinue reports whether c is in Unicode's XID_Continue.
func xidContinue(c rune) bool {
	return (idStart(c) || unicode.In(c, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc, unicode.Other_ID_Continue)) &&
		!unicode.In(c, unicode.Pattern_Syntax, unicode.Pattern_White_Space) && !notXID(c)
}

// idStart reports whether c is in Unicode's ID_Start.
func idStart(c rune) bool {
	return unicode.In(c, unicode.L, unicode.Nl, unicode.Other_ID_Start) &&
		!unicode.In(c, unicode.Pattern_Syntax, unicode.Pattern_White_Space)
}

// notXID reports whether c is one of the ID_Continue characters whose NFKC
// form is not an identifier, so that XID_Continue leaves them out.
func notXID(c rune) bool {
	switch {
	case c == 0x037A, c == 0x309B, c == 0x309C, c == 0xFDFA, c == 0xFDFB:
		return true
	case 0xFC5E <= c && c <= 0xFC63:
		return true
	case 0xFE70 <= c && c <= 0xFE7E && c%2 == 0:
		return true
	}
	return false
}
