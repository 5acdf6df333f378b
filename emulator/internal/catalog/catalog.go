package catalog

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Product is a set of the products a cmdlet or parameter applies to.
type Product uint8

// The products of the catalog. OnPremises stands for every Exchange Server version.
const (
	ExchangeOnline Product = 1 << iota
	SecurityCompliance
	ExchangeOnlineProtection
	OnPremises
)

// String names the product as Microsoft's pages do.
func (p Product) String() string {
	var out []string
	for _, x := range []struct {
		p    Product
		name string
	}{{ExchangeOnline, "Exchange Online"}, {SecurityCompliance, "Security & Compliance"},
		{ExchangeOnlineProtection, "Exchange Online Protection"}, {OnPremises, "Exchange Server"}} {
		if p&x.p != 0 {
			out = append(out, x.name)
		}
	}
	return strings.Join(out, ", ")
}

// Cmdlet is one catalogued cmdlet with every parameter its page documents, for any product.
type Cmdlet struct {
	Name     string
	Products Product
	// Module cmdlets (Connect-*, Get-EXO*, ...) run inside the client module, not through
	// InvokeCommand.
	Module bool
	// DefaultSet is the parameter set the page marks as default ("" when none is marked).
	DefaultSet string
	Params     []*Param
	Sets       []*Set
}

// Param is one parameter of a cmdlet.
type Param struct {
	Name     string
	Type     string // the .NET type as the page writes it: String, MultiValuedProperty, MailboxIdParameter, ...
	Switch   bool
	Aliases  []string
	Values   []string // accepted values (an enum), when the page lists them
	Products Product
}

// Set is one parameter set.
type Set struct {
	Name   string
	Params []SetParam
}

// SetParam is a parameter's role in one set.
type SetParam struct {
	*Param
	Mandatory bool
	// Position is the zero-based position among the set's positional parameters, -1 if named.
	Position       int
	Pipeline       bool // ValueFromPipeline or ValueFromPipelineByPropertyName
	ByValue        bool
	ByPropertyName bool
}

// Catalog is the whole cmdlet catalog.
type Catalog struct {
	Source  string // the reference pages' repository and commit
	Cmdlets []*Cmdlet
	byName  map[string]*Cmdlet
}

// Cmdlet finds a cmdlet by name, case-insensitively; nil if it is not catalogued.
func (c *Catalog) Cmdlet(name string) *Cmdlet {
	return c.byName[strings.ToLower(strings.TrimSpace(name))]
}

//go:embed catalog.txt.gz
var embedded []byte

var (
	loadOnce sync.Once
	loaded   *Catalog
	loadErr  error
)

// Load returns the embedded catalog, decoded on first use (a few milliseconds), so programs that
// never bind a cmdlet never pay for it.
func Load() *Catalog {
	loadOnce.Do(func() { loaded, loadErr = decodeGzip(embedded) })
	if loadErr != nil {
		// The embedded file is generated and tested; failing to read it is a build defect.
		panic("catalog: the embedded catalog is corrupt: " + loadErr.Error())
	}
	return loaded
}

// The compact form: what the binder and the module file need, with short keys.
type fileCatalog struct {
	Source  string
	Cmdlets []fileCmdlet
}

type fileCmdlet struct {
	Name     string      `json:"n"`
	Products Product     `json:"p"`
	Module   bool        `json:"m,omitempty"`
	Default  string      `json:"d,omitempty"`
	Params   []fileParam `json:"a"`
	Sets     []fileSet   `json:"s"`
}

type fileParam struct {
	Name     string   `json:"n"`
	Type     string   `json:"t"`
	Products Product  `json:"p"`
	Switch   bool     `json:"w,omitempty"`
	Aliases  []string `json:"l,omitempty"`
	Values   []string `json:"v,omitempty"`
}

// fileSet lists a set's parameters as [index into Params, flags, position or -1].
type fileSet struct {
	Name   string   `json:"n"`
	Params [][3]int `json:"p"`
}

// Flags of a set parameter.
const (
	flagMandatory = 1 << iota
	flagPipeline
	flagByValue
	flagByPropertyName
)

func decodeGzip(b []byte) (*Catalog, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if n := len(b); n >= 4 { // gzip's trailer holds the uncompressed size
		buf.Grow(int(uint32(b[n-4]) | uint32(b[n-3])<<8 | uint32(b[n-2])<<16 | uint32(b[n-1])<<24))
	}
	if _, err := io.Copy(&buf, zr); err != nil {
		return nil, err
	}
	return decode(buf.Bytes())
}

// formatHeader starts the compact form; a reader refuses other versions.
const formatHeader = "exoctl-catalog v1"

// decode reads the compact form: "S source", then per cmdlet a "C name products module default"
// line followed by its "P name type products switch aliases values" and "T set entries" lines;
// tabs separate fields, \x1f list items; a set entry is "param:flags:position".
func decode(raw []byte) (*Catalog, error) {
	text := string(raw)
	header, text, _ := strings.Cut(text, "\n")
	if header != formatHeader {
		return nil, fmt.Errorf("unknown catalog format %q", header)
	}
	c := &Catalog{byName: map[string]*Cmdlet{}}
	var cur *Cmdlet
	var params []Param
	var sets []*Set
	type entry struct{ set, param, flags, pos int }
	var pending []entry
	flush := func() {
		if cur == nil {
			return
		}
		cur.Params = make([]*Param, len(params))
		for i := range params {
			cur.Params[i] = &params[i]
		}
		for _, e := range pending {
			sets[e.set].Params = append(sets[e.set].Params, SetParam{Param: &params[e.param], Mandatory: e.flags&flagMandatory != 0,
				Position: e.pos, Pipeline: e.flags&flagPipeline != 0, ByValue: e.flags&flagByValue != 0, ByPropertyName: e.flags&flagByPropertyName != 0})
		}
		cur.Sets = sets
		c.Cmdlets = append(c.Cmdlets, cur)
		c.byName[strings.ToLower(cur.Name)] = cur
		cur, params, sets, pending = nil, nil, nil, pending[:0]
	}
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "\x1f")
	}
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		switch {
		case f[0] == "S" && len(f) == 2:
			c.Source = f[1]
		case f[0] == "C" && len(f) == 5:
			flush()
			p, err := strconv.Atoi(f[2])
			if err != nil {
				return nil, fmt.Errorf("catalog line %q: %w", line, err)
			}
			cur = &Cmdlet{Name: f[1], Products: Product(p), Module: f[3] == "1", DefaultSet: f[4]}
		case f[0] == "P" && len(f) == 7 && cur != nil:
			p, err := strconv.Atoi(f[3])
			if err != nil {
				return nil, fmt.Errorf("catalog line %q: %w", line, err)
			}
			params = append(params, Param{Name: f[1], Type: f[2], Products: Product(p), Switch: f[4] == "1", Aliases: split(f[5]), Values: split(f[6])})
		case f[0] == "T" && len(f) == 3 && cur != nil:
			sets = append(sets, &Set{Name: f[1]})
			for _, e := range split(f[2]) {
				a, rest, _ := strings.Cut(e, ":")
				b, d, _ := strings.Cut(rest, ":")
				i, err1 := strconv.Atoi(a)
				fl, err2 := strconv.Atoi(b)
				pos, err3 := strconv.Atoi(d)
				if err1 != nil || err2 != nil || err3 != nil || i < 0 || i >= len(params) {
					return nil, fmt.Errorf("catalog line %q: bad entry %q", line, e)
				}
				pending = append(pending, entry{len(sets) - 1, i, fl, pos})
			}
		default:
			return nil, fmt.Errorf("catalog line %q isn't valid", line)
		}
	}
	flush()
	sort.Slice(c.Cmdlets, func(i, j int) bool { return c.Cmdlets[i].Name < c.Cmdlets[j].Name })
	return c, nil
}
