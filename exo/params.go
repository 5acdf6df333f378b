package exo

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Params are a cmdlet's parameters: names to values. Values encode as the module encodes them
// (PROTOCOL.md §1): bool for switches, strings, numbers, slices as JSON arrays, nil as null,
// time.Time as UTC "2006-01-02T15:04:05", and map[string]any as a hashtable tagged
// "#Exchange.GenericHashTable". Values with their own MarshalJSON (psparam's) pass through.
type Params map[string]any

const (
	hashtableType           = "#Exchange.GenericHashTable"
	hashtableCollectionType = "#Collection(Exchange.GenericHashTable)"
)

// encodeParams returns the JSON-ready form of p.
func encodeParams(p Params) (map[string]any, error) {
	out := make(map[string]any, len(p))
	for k, v := range p {
		ev, err := encodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("parameter -%s: %w", k, err)
		}
		out[k] = ev
		if s, ok := v.([]map[string]any); ok && len(s) > 0 {
			out[k+"@odata.type"] = hashtableCollectionType
		}
	}
	return out, nil
}

func encodeValue(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05"), nil
	case map[string]any:
		return hashtable(x)
	case []map[string]any:
		arr := make([]any, len(x))
		for i, h := range x {
			e, err := hashtable(h)
			if err != nil {
				return nil, err
			}
			arr[i] = e
		}
		return arr, nil
	case []any:
		arr := make([]any, len(x))
		for i, e := range x {
			ev, err := encodeValue(e)
			if err != nil {
				return nil, err
			}
			arr[i] = ev
		}
		return arr, nil
	case func(), chan any:
		return nil, fmt.Errorf("a %T cannot be sent to the service", v)
	}
	return v, nil
}

// orderedHashtable marshals with the type tag first and keys sorted (Go maps have no order).
type orderedHashtable struct {
	keys []string
	vals map[string]any
}

func hashtable(m map[string]any) (orderedHashtable, error) {
	h := orderedHashtable{keys: slices.Sorted(maps.Keys(m)), vals: make(map[string]any, len(m))}
	for k, v := range m {
		ev, err := encodeValue(v)
		if err != nil {
			return h, fmt.Errorf("key %s: %w", k, err)
		}
		h.vals[k] = ev
	}
	return h, nil
}

func (h orderedHashtable) MarshalJSON() ([]byte, error) {
	buf := []byte(`{"@odata.type":"` + hashtableType + `"`)
	for _, k := range h.keys {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(h.vals[k])
		if err != nil {
			return nil, err
		}
		buf = append(buf, ',')
		buf = append(buf, kb...)
		buf = append(buf, ':')
		buf = append(buf, vb...)
	}
	return append(buf, '}'), nil
}
