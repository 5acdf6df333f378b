package tokencache

import (
	"bytes"
	"encoding/json"
	"slices"
)

// msalSections is the order in which MSAL writes the sections of its blob;
// merged blobs keep it so they read like MSAL's own.
var msalSections = []string{"AccessToken", "RefreshToken", "IdToken", "Account", "AppMetadata"}

// merge3 applies the changes this process made (base -> ours) onto what is on
// disk now (theirs), entry by entry. MSAL's blob is a JSON object whose
// sections (AccessToken, RefreshToken, ...) map cache keys to entries; an
// entry we added, changed or removed since base is taken from ours, every
// other entry from theirs. So two processes that each add a token both keep
// theirs, and a RemoveAccount is not undone by a concurrent writer. When both
// changed one entry, ours wins (each is a valid token).
//
// A nil base means "nothing known": the result is the union, ours winning.
// If a blob is not the JSON shape above, merge3 returns ours: last writer
// wins, still a whole, valid blob.
func merge3(base, ours, theirs []byte) []byte {
	b, okb := sections(base)
	o, oko := sections(ours)
	t, okt := sections(theirs)
	if !okb || !oko || !okt {
		return ours
	}
	out := make(map[string]json.RawMessage, len(t)+len(o))
	for _, name := range union(b, o, t) {
		bv, ov, tv := b[name], o[name], t[name]
		be, bok := entries(bv)
		oe, ook := entries(ov)
		te, tok := entries(tv)
		if !bok || !ook || !tok {
			// A scalar or odd value at the top level: merge it whole.
			if v := pick(bv, ov, tv); v != nil {
				out[name] = v
			}
			continue
		}
		merged := make(map[string]json.RawMessage, len(te)+len(oe))
		for _, k := range union(be, oe, te) {
			if v := pick(be[k], oe[k], te[k]); v != nil {
				merged[k] = v
			}
		}
		if len(merged) == 0 && ov == nil && tv == nil {
			continue
		}
		raw, err := json.Marshal(merged)
		if err != nil {
			return ours
		}
		out[name] = raw
	}
	return encodeSections(out)
}

// pick is the three-way rule for one value; nil means absent.
func pick(base, ours, theirs json.RawMessage) json.RawMessage {
	if same(base, ours) {
		return theirs
	}
	return ours
}

func same(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return bytes.Equal(a, b)
}

// sections parses a blob's top level. Empty input is an empty cache.
func sections(blob []byte) (map[string]json.RawMessage, bool) {
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(blob)) == 0 {
		return m, true
	}
	if err := json.Unmarshal(blob, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// entries parses one section; an absent or null section is empty.
func entries(v json.RawMessage) (map[string]json.RawMessage, bool) {
	m := map[string]json.RawMessage{}
	if v == nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return m, true
	}
	trimmed := bytes.TrimSpace(v)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false
	}
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, false
	}
	return m, true
}

func union(ms ...map[string]json.RawMessage) []string {
	var keys []string
	seen := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// encodeSections writes the top level in MSAL's section order, then any other
// keys sorted.
func encodeSections(m map[string]json.RawMessage) []byte {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	write := func(k string) {
		v, ok := m[k]
		if !ok {
			return
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		if err := json.Compact(&buf, v); err != nil {
			buf.Write(v)
		}
		delete(m, k)
	}
	for _, k := range msalSections {
		write(k)
	}
	rest := make([]string, 0, len(m))
	for k := range m {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	for _, k := range rest {
		write(k)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}
