package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is a JSON value with its object keys in document order.
type node struct {
	kind  kindOf
	keys  []string
	vals  map[string]*node
	elems []*node
}

type kindOf uint8

const (
	kNull kindOf = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k kindOf) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

func parse(b []byte) (*node, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	n, err := parseValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("JSON: data after the value")
	}
	return n, nil
}

func parseValue(d *json.Decoder) (*node, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '{':
			n := &node{kind: kObject, vals: map[string]*node{}}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				c, err := parseValue(d)
				if err != nil {
					return nil, err
				}
				if _, dup := n.vals[k]; !dup {
					n.keys = append(n.keys, k)
				}
				n.vals[k] = c
			}
			_, err := d.Token()
			return n, err
		case '[':
			n := &node{kind: kArray}
			for d.More() {
				c, err := parseValue(d)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, c)
			}
			_, err := d.Token()
			return n, err
		}
		return nil, fmt.Errorf("JSON: unexpected %v", v)
	case nil:
		return &node{kind: kNull}, nil
	case bool:
		return &node{kind: kBool}, nil
	case json.Number:
		return &node{kind: kNumber}, nil
	case string:
		return &node{kind: kString}, nil
	}
	return nil, fmt.Errorf("JSON: unexpected token %v", t)
}

// Option changes what Diff compares.
type Option func(*options)

type options struct {
	unordered bool
	skip      map[string]bool
}

// Unordered compares objects' keys as sets: for answers whose writer gives key order no meaning
// (Entra ID's JSON, which no client reads in order).
func Unordered() Option { return func(o *options) { o.unordered = true } }

// Skip leaves out the values at these paths (as Diff prints them, e.g. "$.value[0]"): a part
// another comparison covers.
func Skip(paths ...string) Option {
	return func(o *options) {
		for _, p := range paths {
			o.skip[p] = true
		}
	}
}

// Diff lists how the shape of got differs from want's: keys missing or extra, keys in another
// order, values of another JSON type. Values themselves are not compared, and a null matches any
// type (a property empty in one answer holds a value in the other). An annotation such as
// "Guid@data.type" is compared only when the property it annotates holds a value on both sides,
// as the service writes annotations only for values. Elements of arrays are compared with the
// wanted array's first element, as a page's records share one shape.
func Diff(want, got []byte, opts ...Option) ([]string, error) {
	o := options{skip: map[string]bool{}}
	for _, opt := range opts {
		opt(&o)
	}
	w, err := parse(want)
	if err != nil {
		return nil, fmt.Errorf("wanted answer: %w", err)
	}
	g, err := parse(got)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	var out []string
	o.diff(&out, "$", w, g)
	return out, nil
}

func (o *options) diff(out *[]string, path string, w, g *node) {
	if o.skip[path] || w.kind == kNull || g.kind == kNull {
		return
	}
	if w.kind != g.kind {
		*out = append(*out, fmt.Sprintf("%s: %s, want %s", path, g.kind, w.kind))
		return
	}
	switch w.kind {
	case kArray:
		if len(w.elems) == 0 {
			return
		}
		for i, e := range g.elems {
			o.diff(out, fmt.Sprintf("%s[%d]", path, i), w.elems[min(i, len(w.elems)-1)], e)
		}
	case kObject:
		for _, k := range w.keys {
			if _, ok := g.vals[k]; !ok && !annotatesNothing(k, w, g) {
				*out = append(*out, fmt.Sprintf("%s: missing %q", path, k))
			}
		}
		for _, k := range g.keys {
			if _, ok := w.vals[k]; !ok && !annotatesNothing(k, g, w) {
				*out = append(*out, fmt.Sprintf("%s: extra %q", path, k))
			}
		}
		if !o.unordered {
			if k, before := firstMisordered(w, g); k != "" {
				*out = append(*out, fmt.Sprintf("%s: %q comes after %q, want before", path, before, k))
			}
		}
		for _, k := range w.keys {
			if gv, ok := g.vals[k]; ok {
				o.diff(out, path+"."+k, w.vals[k], gv)
			}
		}
	}
}

// annotatesNothing reports whether key, present in has, annotates a property of has that in
// other is absent or null: the annotation's absence from other is then no difference.
func annotatesNothing(key string, has, other *node) bool {
	prop, _, ok := strings.Cut(key, "@")
	if !ok || prop == "" {
		return false
	}
	if _, ok := has.vals[prop]; !ok {
		return false
	}
	v, ok := other.vals[prop]
	return !ok || v.kind == kNull
}

// firstMisordered compares the order of the keys both objects have; at the first difference it
// returns got's key there and the wanted key got placed later.
func firstMisordered(w, g *node) (gotKey, wantKey string) {
	var wk, gk []string
	for _, k := range w.keys {
		if _, ok := g.vals[k]; ok {
			wk = append(wk, k)
		}
	}
	for _, k := range g.keys {
		if _, ok := w.vals[k]; ok {
			gk = append(gk, k)
		}
	}
	for i := range wk {
		if wk[i] != gk[i] {
			return gk[i], wk[i]
		}
	}
	return "", ""
}
