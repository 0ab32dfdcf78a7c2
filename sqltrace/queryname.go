package sqltrace

import "strings"

// maxQueryNameLen bounds a query name taken from a comment: sqlc's names
// are Go identifiers, short; a longer one is not a name.
const maxQueryNameLen = 128

// SQLCName returns the name sqlc gives a query in the comment it writes
// before it: "GetOrder" for "-- name: GetOrder :one". Pass it to
// [WithSpanNameFunc] to name the spans of an application's sqlc queries by
// their names:
//
//	tracer := sqltrace.NewTracer(sqltrace.WithSpanNameFunc(sqltrace.SQLCName))
//
// Only the comments before the statement count (a "-- name:" inside or
// after it is something else, such as commented-out code), and only the
// sqlc form: an identifier of ASCII letters, digits and underscores of at
// most 128 bytes, then a space and a ":command". It returns "" otherwise,
// and allocates nothing: the name is a substring of sql.
func SQLCName(sql string) string {
	l := lexer{s: sql}
	for {
		kind, start, end := l.next()
		switch kind {
		case tokSpace:
			continue
		case tokComment:
			if n := sqlcName(sql[start:end]); n != "" {
				return n
			}
			continue
		}
		return ""
	}
}

// sqlcName parses one comment token: "-- name: <Name> :<command>", with
// any run of spaces or tabs between the parts and after the command.
func sqlcName(c string) string {
	rest, ok := strings.CutPrefix(c, "--")
	if !ok {
		return ""
	}
	rest, ok = strings.CutPrefix(strings.TrimLeft(rest, " \t"), "name:")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, " \t")
	n := 0
	for n < len(rest) && isNameByte(rest[n], n == 0) {
		n++
	}
	name, rest := rest[:n], rest[n:]
	if n == 0 || n > maxQueryNameLen {
		return ""
	}
	if rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return ""
	}
	cmd, ok := strings.CutPrefix(strings.TrimLeft(rest, " \t"), ":")
	if !ok {
		return ""
	}
	m := 0
	for m < len(cmd) && isNameByte(cmd[m], false) {
		m++
	}
	if m == 0 || strings.TrimRight(cmd[m:], " \t\r") != "" {
		return ""
	}
	return name
}

func isNameByte(c byte, first bool) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		return true
	case '0' <= c && c <= '9':
		return !first
	}
	return false
}
