package exo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/internal/psm1"
)

// Cmdlets returns the cmdlets the caller's roles allow, sorted: the module's cmdlet catalog
// (GET {base}/adminapi/v1.0/{tenant}/EXOModuleFile with CommandName: *), plus the module's own
// Get-EXO* cmdlets. For a Security & Compliance session it is the region's list.
func (s *Session) Cmdlets(ctx context.Context) ([]string, error) {
	c, err := s.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	return c.Cmdlets(), nil
}

// Catalog returns the connection's module file, read once per Session and kept: the cmdlets
// the caller may run and, from the generated ExchangeOnline.psm1, each one's parameters and
// which of them are switches. Throttling and unavailable answers are retried like a read-only
// cmdlet; a failure is not kept, so the next call asks again.
func (s *Session) Catalog(ctx context.Context) (*Catalog, error) {
	if s.closed.Load() {
		return nil, ErrNotConnected
	}
	s.catMu.Lock()
	defer s.catMu.Unlock()
	if s.catalog != nil {
		return s.catalog, nil
	}
	target := s.base + "/adminapi/v1.0/" + s.tenant + "/EXOModuleFile?Version=" + url.QueryEscape(ModuleVersion)
	requestID := uuid.NewString()
	var as authState
	var c *Catalog
	err := s.retrying(ctx, "cmdlet catalog", func() (bool, error) {
		var retry bool
		var err error
		c, retry, err = s.catalogOnce(ctx, target, requestID, &as)
		return retry, err
	})
	if err != nil {
		return nil, err
	}
	s.catalog = c
	return c, nil
}

func (s *Session) catalogOnce(ctx context.Context, target, requestID string, as *authState) (*Catalog, bool, error) {
	const what = "cmdlet catalog"
	x, retry, err := s.attempt(ctx, request{
		method: http.MethodGet, target: target,
		what: what, cmdlet: "EXOModuleFile", link: "the cmdlet catalog", readOnly: true,
		header: func(h http.Header) {
			h.Set("CommandName", "*")
			h.Set("Accept-Encoding", "gzip")
		},
	}, requestID, as)
	if err != nil {
		return nil, retry, err
	}
	defer x.stop()
	b, err := io.ReadAll(io.LimitReader(x.body, 16<<20))
	if err != nil {
		if err, ok := stopped(ctx, what, err); ok {
			return nil, false, err
		}
		return nil, !errors.Is(err, ErrPageTooLarge), fmt.Errorf("cmdlet catalog: read the answer: %w", err)
	}
	c, err := parseCatalog(b)
	if err != nil {
		return nil, true, fmt.Errorf("cmdlet catalog: %w", err)
	}
	return c, false, nil
}

// Catalog is a connection's module file: the exported cmdlets and the psm1 the service
// generated for them.
type Catalog struct {
	names  []string
	module *psm1.Module // nil when the answer had no fileContent
	raw    []byte       // the answer, for Bytes
}

// Bytes is the EXOModuleFile answer the catalog was read from: what ParseCatalog reads back,
// to keep a connection's catalog between runs.
func (c *Catalog) Bytes() []byte { return slices.Clone(c.raw) }

// Cmdlets are the cmdlet names, sorted case-insensitively: the exported ones and Get-EXO*.
func (c *Catalog) Cmdlets() []string { return slices.Clone(c.names) }

// Parameters are a cmdlet's parameter names in the module file's order, then the common
// parameters PowerShell adds; nil for a cmdlet the catalog does not describe.
func (c *Catalog) Parameters(cmdlet string) []string {
	if e := lookupEXO(cmdlet); e != nil {
		return slices.Clone(e.Params)
	}
	if c.module == nil {
		return nil
	}
	f := c.module.Function(cmdlet)
	if f == nil {
		return nil
	}
	var out []string
	for _, p := range f.Params {
		out = append(out, p.Name)
	}
	for _, p := range psm1.CommonParameters {
		out = append(out, p.Name)
	}
	return out
}

// IsSwitch reports whether a cmdlet's parameter (or one of its aliases, any case) is a switch,
// which takes no value: -Archive alice is then -Archive plus the value alice.
func (c *Catalog) IsSwitch(cmdlet, param string) bool {
	if c.module == nil {
		return false
	}
	f := c.module.Function(cmdlet)
	if f == nil {
		return false
	}
	if f.IsSwitch(param) {
		return true
	}
	for _, p := range psm1.CommonParameters {
		if p.Switch && strings.EqualFold(p.Name, param) {
			return true
		}
	}
	return false
}

// ParseCatalog reads EXOModuleFile's answer: {"value":[{"exportedCmdlets":"A,B,...",
// "fileName":"ExchangeOnline.psm1","fileContent":"..."}]} (a saved one, say).
func ParseCatalog(b []byte) (*Catalog, error) { return parseCatalog(b) }

func parseCatalog(b []byte) (*Catalog, error) {
	var body struct {
		Value []struct {
			ExportedCmdlets string `json:"exportedCmdlets"`
			FileName        string `json:"fileName"`
			FileContent     string `json:"fileContent"`
		} `json:"value"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, fmt.Errorf("the answer is not valid JSON: %w", err)
	}
	c := &Catalog{raw: slices.Clone(b)}
	seen := map[string]bool{}
	add := func(n string) {
		n = strings.TrimSpace(n)
		if n == "" || seen[strings.ToLower(n)] {
			return
		}
		seen[strings.ToLower(n)] = true
		c.names = append(c.names, n)
	}
	for _, v := range body.Value {
		for n := range strings.SplitSeq(v.ExportedCmdlets, ",") {
			add(n)
		}
		if v.FileContent != "" && strings.HasSuffix(strings.ToLower(v.FileName), ".psm1") {
			m, err := psm1.Parse(v.FileContent)
			if err != nil {
				return nil, fmt.Errorf("the module file %s: %w", v.FileName, err)
			}
			c.module = m
		}
	}
	if len(c.names) > 0 {
		for _, n := range EXOCmdlets() {
			add(n)
		}
	}
	slices.SortFunc(c.names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return c, nil
}
