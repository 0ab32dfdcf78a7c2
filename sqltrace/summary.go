package sqltrace

import (
	"strings"
	"unicode/utf8"
)

// maxSummaryLen is the longest db.query.summary the semantic conventions
// allow (255 characters); summaries are cut at a whole word below it.
const maxSummaryLen = 255

// QuerySummary returns the db.query.summary of sql: its operations and their
// targets in the order they appear ("SELECT inventory",
// "INSERT shipping_details SELECT orders", "UPDATE orders"), at most 255
// bytes long and never containing a literal. It returns "" when sql has no
// recognised operation.
//
// It parses sql on every call; the [Tracer] caches the result per SQL text.
func QuerySummary(sql string) string { return analyze(sql).summary }

// SanitizeQuery returns sql with every literal (strings, dollar-quoted
// strings, numbers) replaced by "?". Parameter placeholders ($1), identifiers,
// keywords and comments are kept as written; a query without literals is
// returned unchanged.
func SanitizeQuery(sql string) string { return analyze(sql).text }

// tokKind classifies a token of the PostgreSQL lexical grammar.
type tokKind uint8

const (
	tokEOF     tokKind = iota
	tokSpace           // white space
	tokComment         // -- line or /* nested block */ comment
	tokWord            // unquoted identifier or keyword
	tokIdent           // "quoted identifier"
	tokString          // 'string', E'string', $tag$string$tag$
	tokNumber          // 42, 1.5e-3, 0x1F, 1_000
	tokParam           // $1
	tokPunct           // any other single byte: ( ) , ; . operators
)

// lexer splits a SQL text into tokens. It never fails: anything it does not
// recognise is punctuation, an unterminated string or comment runs to the end
// of the text (so an unterminated literal is still a literal).
type lexer struct {
	s   string
	pos int
}

func (l *lexer) next() (kind tokKind, start, end int) {
	s, i := l.s, l.pos
	if i >= len(s) {
		return tokEOF, i, i
	}
	start = i
	c := s[i]
	switch {
	case isSpace(c):
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		kind = tokSpace
	case c == '-' && i+1 < len(s) && s[i+1] == '-':
		for i < len(s) && s[i] != '\n' {
			i++
		}
		kind = tokComment
	case c == '/' && i+1 < len(s) && s[i+1] == '*':
		i = blockCommentEnd(s, i)
		kind = tokComment
	case c == '\'':
		i = quotedEnd(s, i+1, '\'', false)
		kind = tokString
	case c == '"':
		i = quotedEnd(s, i+1, '"', false)
		kind = tokIdent
	case c == '$':
		kind, i = dollar(s, i)
	case isDigit(c) || (c == '.' && i+1 < len(s) && isDigit(s[i+1])):
		i = numberEnd(s, i)
		kind = tokNumber
	case isIdentStart(c):
		for i < len(s) && isIdentPart(s[i]) {
			i++
		}
		kind = tokWord
		// E'...' has backslash escapes; B'', X'', N'' are plain strings.
		if i-start == 1 && i < len(s) && s[i] == '\'' {
			switch c {
			case 'e', 'E':
				i = quotedEnd(s, i+1, '\'', true)
				kind = tokString
			case 'b', 'B', 'x', 'X', 'n', 'N':
				i = quotedEnd(s, i+1, '\'', false)
				kind = tokString
			}
		}
	default:
		i++
		kind = tokPunct
	}
	l.pos = i
	return kind, start, i
}

// quotedEnd returns the index after the closing quote q of a quoted token
// whose body starts at i; a doubled quote is part of the body. With
// backslash, a backslash escapes the next byte (E” strings).
func quotedEnd(s string, i int, q byte, backslash bool) int {
	for i < len(s) {
		switch c := s[i]; {
		case backslash && c == '\\':
			i += 2
		case c == q:
			if i+1 < len(s) && s[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		default:
			i++
		}
	}
	return len(s)
}

// blockCommentEnd returns the index after the */ that closes the comment
// opening at i. PostgreSQL block comments nest.
func blockCommentEnd(s string, i int) int {
	depth := 0
	for i < len(s) {
		switch {
		case strings.HasPrefix(s[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(s[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return len(s)
}

// dollar lexes what starts with '$': a parameter ($1), a dollar-quoted
// string ($$...$$, $tag$...$tag$) or a lone '$'.
func dollar(s string, i int) (tokKind, int) {
	j := i + 1
	if j < len(s) && isDigit(s[j]) {
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		return tokParam, j
	}
	if j < len(s) && s[j] != '$' && isIdentStart(s[j]) {
		for j < len(s) && isIdentPart(s[j]) && s[j] != '$' {
			j++
		}
	}
	if j >= len(s) || s[j] != '$' {
		return tokPunct, i + 1
	}
	tag := s[i : j+1]
	if k := strings.Index(s[j+1:], tag); k >= 0 {
		return tokString, j + 1 + k + len(tag)
	}
	return tokString, len(s)
}

// numberEnd returns the end of the numeric literal at i. It is generous: it
// takes every identifier byte and dot that follows, and a sign after an
// exponent marker, so that no digit of a number is left outside the token.
func numberEnd(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case isDigit(c) || c == '.' || c == '_' || isLetter(c):
			i++
			if (c == 'e' || c == 'E') && i+1 < len(s) && (s[i] == '+' || s[i] == '-') && isDigit(s[i+1]) {
				i++
			}
		default:
			return i
		}
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isDigit(c byte) bool        { return '0' <= c && c <= '9' }
func isLetter(c byte) bool       { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isIdentStart(c byte) bool   { return isLetter(c) || c == '_' || c >= 0x80 }
func isIdentPart(c byte) bool    { return isIdentStart(c) || isDigit(c) || c == '$' }
func isLiteral(k tokKind) bool   { return k == tokString || k == tokNumber }
func isNameToken(k tokKind) bool { return k == tokWord || k == tokIdent }

// analysis is what the tracer needs to know about one SQL text. It is
// computed once per text and shared read-only through the cache.
type analysis struct {
	summary   string // db.query.summary; "" when no operation was recognised
	name      string // span name: WithSpanNameFunc's, else the summary, else "postgresql"
	batch     string // summary of a batch of this query: "BATCH " + summary
	batchName string // span name of a batch of this query: "BATCH " + name, or batch
	prepare   string // summary of preparing it: "PREPARE " + summary
	text      string // db.query.text: the SQL, literals replaced by "?"
	returning bool   // a RETURNING clause: the command tag counts returned rows
}

// analyze lexes sql once, building the summary and the sanitised text.
func analyze(sql string) *analysis {
	if !utf8.ValidString(sql) {
		sql = strings.ToValidUTF8(sql, "\uFFFD")
	}
	a := &analysis{}
	var (
		text    strings.Builder
		copied  int // sql[:copied] is already in text
		summary summarizer
	)
	l := lexer{s: sql}
	for {
		kind, start, end := l.next()
		if kind == tokEOF {
			break
		}
		if isLiteral(kind) {
			if copied == 0 && text.Len() == 0 {
				text.Grow(len(sql))
			}
			text.WriteString(sql[copied:start])
			text.WriteByte('?')
			copied = end
		}
		if kind == tokSpace || kind == tokComment {
			continue
		}
		summary.token(&l, kind, start, end)
	}
	summary.flush()
	a.summary = summary.b.String()
	a.name, a.batch, a.prepare = dbSystem, "BATCH", "PREPARE"
	if a.summary != "" {
		a.name, a.batch, a.prepare = a.summary, "BATCH "+a.summary, "PREPARE "+a.summary
	}
	a.batchName = a.batch
	a.returning = summary.returning
	if text.Len() == 0 && copied == 0 {
		a.text = sql
	} else {
		text.WriteString(sql[copied:])
		a.text = text.String()
	}
	return a
}

// named makes name the span name of the query, and of a batch of it.
func (a *analysis) named(name string) {
	a.name, a.batchName = name, "BATCH "+name
}

// expectation is what the summarizer looks for next.
type expectation uint8

const (
	expectNothing  expectation = iota
	expectTarget               // one table name (INTO, JOIN, UPDATE, TABLE...)
	expectFromList             // table names separated by commas (FROM)
	expectDDLKind              // the object kind after CREATE/ALTER/DROP
	expectDDLName              // the object name after the kind
)

// summarizer turns the token stream into a db.query.summary. It recognises
// operations anywhere (subqueries, CTE bodies, several statements) and the
// tables they touch, and ignores everything else. Its output holds only
// keywords from fixed tables and identifiers from the text, so it carries no
// literal and stays as low in cardinality as the application's SQL.
type summarizer struct {
	b         strings.Builder
	full      bool
	returning bool

	expect      expectation
	targetFunc  bool  // the expected target may turn out to be a function: FROM f(...)
	wantTable   bool  // in a FROM list, the next name is a table (not an alias)
	listDepth   int   // paren depth of the FROM list being read
	outerLists  []int // depths of FROM lists a subquery interrupted
	pending     string
	pendingFunc bool     // pending is dropped when followed by '('
	prevKW      string   // previous token when it was a keyword, canonical upper case
	depth       int      // parenthesis depth
	ops         []string // ops[d]: the operation running at paren depth d
	notFirst    bool     // a token was seen in this statement
	inWith      bool     // reading CTE definitions at depth 0
	ctes        []string // CTE names of this statement: not tables
}

func (s *summarizer) add(part string) {
	if s.full || part == "" {
		return
	}
	n := len(part)
	if s.b.Len() > 0 {
		n++
	}
	if s.b.Len()+n > maxSummaryLen {
		s.full = true
		return
	}
	if s.b.Len() > 0 {
		s.b.WriteByte(' ')
	}
	s.b.WriteString(part)
}

func (s *summarizer) flush() {
	if s.pending != "" {
		s.add(s.pending)
		s.pending = ""
	}
}

func (s *summarizer) setOp(kw string) {
	for len(s.ops) <= s.depth {
		s.ops = append(s.ops, "")
	}
	s.ops[s.depth] = kw
}

func (s *summarizer) op() string {
	if s.depth < len(s.ops) {
		return s.ops[s.depth]
	}
	return ""
}

func (s *summarizer) target(name string, mayBeFunc bool) {
	for _, c := range s.ctes {
		if c == name {
			return
		}
	}
	s.pending, s.pendingFunc = name, mayBeFunc
}

func (s *summarizer) expectsName() bool {
	return s.expect == expectTarget || s.expect == expectDDLName ||
		(s.expect == expectFromList && s.depth == s.listDepth)
}

func (s *summarizer) token(l *lexer, kind tokKind, start, end int) {
	text := l.s[start:end]
	if s.pending != "" {
		if s.pendingFunc && kind == tokPunct && text == "(" {
			s.pending = "" // FROM generate_series(...): a function, not a table
		} else {
			s.flush()
		}
	}
	first := !s.notFirst
	s.notFirst = true

	kw := ""
	if kind == tokWord {
		kw = keyword(text)
		if kw != "" && s.expectsName() && !reserved[kw] {
			kw = "" // a table named like a non-reserved keyword: FROM event, FROM role
		}
	}
	switch {
	case kind == tokPunct:
		s.punct(text[0])
	case kw != "":
		s.keyword(kw, first)
	case isNameToken(kind):
		s.name(l, end, start)
	default: // literals and parameters: not a name
		if s.expect != expectFromList {
			s.expect = expectNothing
		}
	}
	s.prevKW = kw
}

func (s *summarizer) punct(c byte) {
	switch c {
	case '(':
		if s.expect == expectFromList && s.depth == s.listDepth {
			s.wantTable = false // FROM (subquery) alias: the alias is no table
		}
		s.depth++
		if s.depth < len(s.ops) {
			s.ops[s.depth] = ""
		}
		if s.expect != expectFromList {
			s.expect = expectNothing
		}
	case ')':
		if s.depth > 0 {
			s.depth--
		}
		if n := len(s.outerLists); n > 0 && s.outerLists[n-1] == s.depth {
			// back in the FROM list the subquery interrupted
			s.outerLists = s.outerLists[:n-1]
			s.expect, s.listDepth, s.wantTable = expectFromList, s.depth, false
		} else if s.expect == expectFromList && s.depth < s.listDepth {
			s.expect = expectNothing
		}
	case ',':
		if s.expect == expectFromList && s.depth == s.listDepth {
			s.wantTable = true
		}
	case ';':
		s.flush()
		s.endStatement()
	case '.':
		// a qualified name is read whole by name()
	default:
		if s.expect != expectFromList {
			s.expect = expectNothing
		}
	}
}

// endStatement forgets all but the summary built so far: a ';' starts a
// new statement.
func (s *summarizer) endStatement() {
	s.expect, s.targetFunc, s.wantTable, s.listDepth = expectNothing, false, false, 0
	s.pending, s.pendingFunc, s.prevKW, s.depth = "", false, "", 0
	s.ops, s.outerLists, s.ctes = s.ops[:0], s.outerLists[:0], s.ctes[:0]
	s.notFirst, s.inWith = false, false
}

// name handles an identifier: a table when one is expected, a CTE name
// while reading WITH definitions, nothing otherwise.
func (s *summarizer) name(l *lexer, end, start int) {
	// Read a qualified name (schema.table, "Sch"."Tab") as one target.
	for end+1 < len(l.s) && l.s[end] == '.' && (isIdentStart(l.s[end+1]) || l.s[end+1] == '"') {
		l.pos = end + 1
		k, _, e := l.next()
		if !isNameToken(k) {
			l.pos = end
			break
		}
		end = e
	}
	name := l.s[start:end]
	if s.inWith && s.depth == 0 {
		s.ctes = append(s.ctes, name)
		return
	}
	switch s.expect {
	case expectTarget, expectDDLName:
		s.target(name, s.expect == expectTarget && s.targetFunc)
		s.expect = expectNothing
	case expectFromList:
		if s.depth == s.listDepth && s.wantTable {
			s.target(name, true)
			s.wantTable = false
		}
	case expectDDLKind:
		s.expect = expectNothing
	}
}

// keyword handles a recognised keyword kw (canonical upper case).
func (s *summarizer) keyword(kw string, first bool) {
	switch s.expect {
	case expectFromList:
		if s.depth == s.listDepth {
			switch kw {
			case "AS", "ONLY", "LATERAL":
				return
			}
			s.expect = expectNothing // the next clause ends the FROM list
		}
	case expectDDLKind:
		switch kw {
		case "OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "UNIQUE", "GLOBAL", "LOCAL", "MATERIALIZED", "RECURSIVE", "FOREIGN":
			return
		}
		s.expect = expectNothing
		if objectKinds[kw] {
			s.add(kw)
			s.expect = expectDDLName
			return
		}
	case expectTarget, expectDDLName:
		switch kw {
		case "IF", "NOT", "EXISTS", "CONCURRENTLY", "ONLY", "TABLE", "LATERAL":
			return
		}
		s.expect = expectNothing
	}

	switch kw {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE":
		switch s.prevKW {
		case "FOR", "KEY", "DO", "THEN": // FOR UPDATE, DO UPDATE, WHEN MATCHED THEN DELETE
			return
		}
		s.add(kw)
		s.setOp(kw)
		if s.depth == 0 {
			s.inWith = false
		}
		if kw == "UPDATE" {
			s.expect, s.targetFunc = expectTarget, false
		}
	case "WITH":
		if s.depth == 0 && first {
			s.inWith = true
		}
	case "FROM":
		switch s.op() {
		case "SELECT", "DELETE", "UPDATE":
			if s.prevKW != "DISTINCT" {
				if s.expect == expectFromList && s.listDepth < s.depth {
					s.outerLists = append(s.outerLists, s.listDepth)
				}
				s.expect, s.listDepth, s.wantTable = expectFromList, s.depth, true
			}
		}
	case "JOIN":
		if s.op() != "" {
			s.expect, s.targetFunc = expectTarget, true
		}
	case "INTO":
		switch s.op() {
		case "INSERT", "MERGE", "SELECT":
			s.expect, s.targetFunc = expectTarget, false
		}
	case "USING":
		switch s.op() {
		case "DELETE", "MERGE":
			s.expect, s.targetFunc = expectTarget, false
		}
	case "RETURNING":
		s.returning = true
	case "CREATE", "ALTER", "DROP":
		if first {
			s.add(kw)
			s.setOp(kw)
			s.expect = expectDDLKind
		}
	case "TRUNCATE", "COPY", "LOCK", "CALL":
		if first {
			s.add(kw)
			s.setOp(kw)
			s.expect, s.targetFunc = expectTarget, false
		}
	default:
		if first && statementKeywords[kw] {
			s.add(kw)
			s.setOp(kw)
		}
	}
}

// statementKeywords are statements summarised by their keyword alone.
var statementKeywords = map[string]bool{
	"BEGIN": true, "START": true, "COMMIT": true, "END": true, "ROLLBACK": true, "ABORT": true,
	"SAVEPOINT": true, "RELEASE": true, "PREPARE": true, "EXECUTE": true, "DEALLOCATE": true,
	"DECLARE": true, "FETCH": true, "MOVE": true, "CLOSE": true, "LISTEN": true, "NOTIFY": true,
	"UNLISTEN": true, "SET": true, "SHOW": true, "RESET": true, "VACUUM": true, "ANALYZE": true,
	"EXPLAIN": true, "GRANT": true, "REVOKE": true, "REFRESH": true, "DISCARD": true,
	"COMMENT": true, "REINDEX": true, "CLUSTER": true, "CHECKPOINT": true, "VALUES": true, "DO": true,
}

// reserved are the keywords that cannot be an unquoted table name; any other
// keyword where a table is expected is taken as the table's name.
var reserved = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`AS CROSS DEFAULT DISTINCT DO ELSE END EXCEPT FETCH FOR FROM FULL
		GROUP HAVING INNER INTERSECT INTO JOIN LATERAL LEFT LIMIT NATURAL NOT OFFSET ON ONLY
		OR ORDER OUTER RETURNING RIGHT SELECT TABLE TABLESAMPLE THEN UNION USING VALUES WHEN
		WHERE WINDOW WITH IF EXISTS CONCURRENTLY INSERT UPDATE DELETE MERGE SET`) {
		m[k] = true
	}
	return m
}()

// objectKinds are the object kinds named after CREATE, ALTER and DROP.
var objectKinds = map[string]bool{
	"TABLE": true, "INDEX": true, "VIEW": true, "SCHEMA": true, "SEQUENCE": true,
	"FUNCTION": true, "PROCEDURE": true, "TYPE": true, "EXTENSION": true, "TRIGGER": true,
	"DATABASE": true, "ROLE": true, "USER": true, "DOMAIN": true, "POLICY": true, "RULE": true,
	"PUBLICATION": true, "SUBSCRIPTION": true, "COLLATION": true,
}

// keywords are the words the summarizer reacts to, plus the clause words
// that end a FROM list. Anything else is a name.
var keywords = func() map[string]string {
	m := map[string]string{}
	for _, k := range strings.Fields(`SELECT INSERT UPDATE DELETE MERGE WITH RECURSIVE FROM JOIN INTO
		USING RETURNING CREATE ALTER DROP TRUNCATE COPY LOCK CALL OR REPLACE TEMP TEMPORARY
		UNLOGGED UNIQUE GLOBAL LOCAL MATERIALIZED FOREIGN IF NOT EXISTS CONCURRENTLY ONLY LATERAL
		AS DISTINCT FOR KEY DO THEN WHERE GROUP ORDER HAVING LIMIT OFFSET WINDOW UNION
		INTERSECT EXCEPT ON LEFT RIGHT INNER OUTER FULL CROSS NATURAL SET VALUES WHEN ELSE
		FETCH TABLESAMPLE DEFAULT`) {
		m[k] = k
	}
	for k := range statementKeywords {
		m[k] = k
	}
	for k := range objectKinds {
		m[k] = k
	}
	for k := range reserved {
		m[k] = k
	}
	return m
}()

// keyword returns the canonical form of word if it is a keyword, or "".
func keyword(word string) string {
	if len(word) > 16 {
		return ""
	}
	var buf [16]byte
	for i := 0; i < len(word); i++ {
		c := word[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return keywords[string(buf[:len(word)])]
}
