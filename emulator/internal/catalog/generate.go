package catalog

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// sourceCatalog is the shape of exchange-cmdlets.json (the facts read from Microsoft's pages);
// only the fields the emulator uses are decoded.
type sourceCatalog struct {
	Source  string `json:"source"`
	Cmdlets []struct {
		Name       string   `json:"name"`
		Products   []string `json:"products"`
		Module     bool     `json:"module_cmdlet"`
		DefaultSet string   `json:"default_parameter_set"`
		Sets       []struct {
			Name   string `json:"name"`
			Params []struct {
				Name       string   `json:"name"`
				Mandatory  bool     `json:"mandatory"`
				Position   *int     `json:"position"`
				Pipeline   bool     `json:"pipeline"`
				PipelineBy []string `json:"pipeline_by"`
			} `json:"parameters"`
		} `json:"parameter_sets"`
		Params []struct {
			Name     string   `json:"name"`
			Type     string   `json:"type"`
			Switch   bool     `json:"switch"`
			Aliases  []string `json:"aliases"`
			Products []string `json:"products"`
			Values   []string `json:"accepted_values"`
		} `json:"parameters"`
	} `json:"cmdlets"`
}

func products(names []string) Product {
	var p Product
	for _, n := range names {
		switch {
		case n == "Exchange Online":
			p |= ExchangeOnline
		case n == "Security & Compliance":
			p |= SecurityCompliance
		case n == "Exchange Online Protection", n == "Built-in security add-on for on-premises mailboxes":
			p |= ExchangeOnlineProtection
		case strings.HasPrefix(n, "Exchange Server"):
			p |= OnPremises
		}
	}
	return p
}

// Generate turns the source catalog (exchange-cmdlets.json) into the compact JSON the package
// embeds (gzipped by Compress). The same source always gives the same bytes.
func Generate(src []byte) ([]byte, error) {
	var in sourceCatalog
	if err := json.Unmarshal(src, &in); err != nil {
		return nil, fmt.Errorf("reading the source catalog: %w", err)
	}
	out := fileCatalog{Source: in.Source}
	for _, c := range in.Cmdlets {
		fc := fileCmdlet{Name: c.Name, Products: products(c.Products), Module: c.Module, Default: c.DefaultSet}
		index := map[string]int{}
		for _, p := range c.Params {
			if _, dup := index[p.Name]; dup {
				return nil, fmt.Errorf("%s: parameter %s listed twice", c.Name, p.Name)
			}
			index[p.Name] = len(fc.Params)
			fc.Params = append(fc.Params, fileParam{Name: p.Name, Type: p.Type, Products: products(p.Products),
				Switch: p.Switch, Aliases: p.Aliases, Values: p.Values})
		}
		for _, s := range c.Sets {
			fs := fileSet{Name: s.Name, Params: [][3]int{}}
			for _, p := range s.Params {
				i, ok := index[p.Name]
				if !ok {
					return nil, fmt.Errorf("%s: set %s names parameter %s, which the cmdlet does not list", c.Name, s.Name, p.Name)
				}
				flags := 0
				if p.Mandatory {
					flags |= flagMandatory
				}
				if p.Pipeline {
					flags |= flagPipeline
				}
				for _, by := range p.PipelineBy {
					switch by {
					case "ByValue":
						flags |= flagByValue
					case "ByPropertyName":
						flags |= flagByPropertyName
					}
				}
				pos := -1
				if p.Position != nil {
					pos = *p.Position
				}
				fs.Params = append(fs.Params, [3]int{i, flags, pos})
			}
			fc.Sets = append(fc.Sets, fs)
		}
		out.Cmdlets = append(out.Cmdlets, fc)
	}
	sort.Slice(out.Cmdlets, func(i, j int) bool { return out.Cmdlets[i].Name < out.Cmdlets[j].Name })
	return encode(&out), nil
}

// encode writes the compact text form, one record a line, fields separated by tabs and list
// items by \x1f (see decode). It parses an order of magnitude faster than JSON.
func encode(f *fileCatalog) []byte {
	var b bytes.Buffer
	b.WriteString(formatHeader + "\n")
	b.WriteString("S\t" + f.Source + "\n")
	list := func(items []string) string { return strings.Join(items, "\x1f") }
	for _, c := range f.Cmdlets {
		module := "0"
		if c.Module {
			module = "1"
		}
		fmt.Fprintf(&b, "C\t%s\t%d\t%s\t%s\n", c.Name, c.Products, module, c.Default)
		for _, p := range c.Params {
			sw := "0"
			if p.Switch {
				sw = "1"
			}
			fmt.Fprintf(&b, "P\t%s\t%s\t%d\t%s\t%s\t%s\n", p.Name, p.Type, p.Products, sw, list(p.Aliases), list(p.Values))
		}
		for _, s := range c.Sets {
			entries := make([]string, len(s.Params))
			for i, e := range s.Params {
				entries[i] = fmt.Sprintf("%d:%d:%d", e[0], e[1], e[2])
			}
			fmt.Fprintf(&b, "T\t%s\t%s\n", s.Name, list(entries))
		}
	}
	return b.Bytes()
}

// Compress gzips the generated JSON as it is embedded.
func Compress(generated []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(generated); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
