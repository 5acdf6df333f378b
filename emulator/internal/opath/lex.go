package opath

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokenKind int

const (
	tEOF tokenKind = iota
	tLParen
	tRParen
	tAnd
	tOr
	tNot
	tOp     // a comparison operator; text holds its lower-case name without the dash
	tString // a quoted literal; text holds it unquoted
	tNull
	tTrue
	tFalse
	tWord // a bare word: a property name, a number, or an unquoted value
)

type token struct {
	kind tokenKind
	text string
	pos  int // byte offset in the filter as given
}

var comparisons = map[string]bool{
	"eq": true, "ne": true, "lt": true, "gt": true, "le": true, "ge": true,
	"like": true, "notlike": true,
}

// quoteClass maps the characters PowerShell takes as single and double quotes (the typographic
// ones too, as a script pasted from a document has them) to ' or ".
func quoteClass(r rune) rune {
	switch r {
	case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
		return '\''
	case '"', '\u201c', '\u201d', '\u201e':
		return '"'
	}
	return 0
}

func isWordRune(r rune) bool {
	return !unicode.IsSpace(r) && r != '(' && r != ')' && r != '{' && r != '}' && r != '!' && quoteClass(r) == 0
}

func isNameRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// lex splits src[start:end] into tokens; positions are offsets in src.
func lex(src string, start, end int) ([]token, *Error) {
	var toks []token
	i := start
	syntax := func(at int) *Error { return &Error{Kind: SyntaxError, Filter: src, Position: at + 1} }
	for i < end {
		r, n := utf8.DecodeRuneInString(src[i:end])
		switch {
		case unicode.IsSpace(r):
			i += n
		case r == '(':
			toks = append(toks, token{tLParen, "(", i})
			i += n
		case r == ')':
			toks = append(toks, token{tRParen, ")", i})
			i += n
		case r == '!':
			toks = append(toks, token{tNot, "!", i})
			i += n
		case quoteClass(r) != 0:
			q := quoteClass(r)
			var b strings.Builder
			j := i + n
			closed := false
			for j < end {
				c, m := utf8.DecodeRuneInString(src[j:end])
				if quoteClass(c) == q {
					if j+m < end {
						if c2, m2 := utf8.DecodeRuneInString(src[j+m : end]); quoteClass(c2) == q {
							b.WriteRune(c)
							j += m + m2
							continue
						}
					}
					j += m
					closed = true
					break
				}
				b.WriteRune(c)
				j += m
			}
			if !closed {
				return nil, syntax(i)
			}
			toks = append(toks, token{tString, b.String(), i})
			i = j
		case r == '-' && i+n < end && isLetterAt(src[i+n:end]):
			j := i + n
			for j < end {
				c, m := utf8.DecodeRuneInString(src[j:end])
				if !unicode.IsLetter(c) {
					break
				}
				j += m
			}
			word := strings.ToLower(src[i+n : j])
			switch {
			case word == "and":
				toks = append(toks, token{tAnd, word, i})
			case word == "or":
				toks = append(toks, token{tOr, word, i})
			case word == "not":
				toks = append(toks, token{tNot, word, i})
			case comparisons[word]:
				toks = append(toks, token{tOp, word, i})
			default:
				return nil, syntax(i)
			}
			i = j
		case r == '$':
			j := i + n
			for j < end {
				c, m := utf8.DecodeRuneInString(src[j:end])
				if !unicode.IsLetter(c) {
					break
				}
				j += m
			}
			switch strings.ToLower(src[i+n : j]) {
			case "null":
				toks = append(toks, token{tNull, src[i:j], i})
			case "true":
				toks = append(toks, token{tTrue, src[i:j], i})
			case "false":
				toks = append(toks, token{tFalse, src[i:j], i})
			default:
				return nil, syntax(i)
			}
			i = j
		case r == '{' || r == '}':
			return nil, syntax(i)
		default:
			j := i
			for j < end {
				c, m := utf8.DecodeRuneInString(src[j:end])
				if !isWordRune(c) {
					break
				}
				j += m
			}
			toks = append(toks, token{tWord, src[i:j], i})
			i = j
		}
	}
	toks = append(toks, token{tEOF, "", end})
	return toks, nil
}

func isLetterAt(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r)
}
