package exo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// Security & Compliance PowerShell (Connect-IPPSSession) speaks the InvokeCommand protocol of
// Exchange Online to a regional endpoint that the compliance base names at connect time:
// GET {base}/adminapi/beta/{tenant}/EXOBanner('AutogenSession') answers 302 with the region in
// its Location.

// complianceBanner is the discovery operation of the compliance base.
const complianceBanner = "EXOBanner('AutogenSession')"

// discoverRegion asks the compliance base for the tenant's region and returns the region's
// REST base. The redirect is followed by hand: Go's client would turn it into a GET without
// Authorization on another host, and the region is a rule on the Location, not the Location.
func (s *Session) discoverRegion(ctx context.Context, base string) (string, error) {
	const what = "find the Security & Compliance region"
	target := base + "/adminapi/beta/" + s.tenant + "/" + complianceBanner + "?Version=" + ModuleVersion
	x, _, err := s.attempt(ctx, request{
		method: http.MethodGet, target: target, header: func(http.Header) {},
		what: what, cmdlet: "Connect-IPPSSession", link: "region discovery", redirect: true,
	}, uuid.NewString(), &authState{})
	if err != nil {
		if ce := (*CmdletError)(nil); errors.As(err, &ce) {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		return "", err
	}
	defer x.stop()
	resp := x.resp
	if resp.StatusCode/100 == 2 {
		return base, nil // no region to go to: the base answers itself
	}
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("%s at %s: a %d answer without a usable Location (%v)", what, base, resp.StatusCode, err)
	}
	return regionBase(loc, base)
}

// isRegionLabel reports whether label can be a region's first DNS label, e.g. eur03b: 1 to 63
// lower-case letters, digits and inner hyphens. (Written out: compiling its regexp, with the
// bounded repetition, cost every process tens of microseconds at start.)
func isRegionLabel(label string) bool {
	if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// regionBase turns the Location of region discovery into the region's REST base, and decides
// whether the token may go there. The service sends
// https://{region}.admin.protection.{domain}:446/...; clients keep the first label and call
// https://{region}.{compliance base host}, e.g. eur03b.ps.compliance.protection.outlook.com:
// only when {domain} is the compliance base's own (outlook.com for
// ps.compliance.protection.outlook.com). A custom endpoint (the emulator, a proxy) may send
// its own origin with a path before /adminapi/, or, reached as localhost, {region}.localhost
// on its port. Anything else, and plain http, is refused: the token would go elsewhere.
func regionBase(loc *url.URL, base string) (string, error) {
	b, err := url.Parse(base)
	if err != nil || b.Host == "" {
		return "", fmt.Errorf("compliance base %q is not a URL", base)
	}
	refuse := func(why string) (string, error) {
		return "", &OriginError{URL: redactURL(loc), Reason: "the Security & Compliance region discovery of " + base + " sent it: " + why}
	}
	if loc.Scheme != "https" || loc.Host == "" {
		return refuse("not an https URL")
	}
	host := strings.ToLower(strings.TrimSuffix(loc.Hostname(), "."))
	baseHost := strings.ToLower(b.Hostname())
	label, rest, _ := strings.Cut(host, ".")
	if domain, ok := strings.CutPrefix(rest, "admin.protection."); ok && net.ParseIP(host) == nil {
		_, baseDomain, found := strings.Cut(baseHost, ".protection.")
		if !found || domain != baseDomain {
			return refuse("not under the compliance domain of " + baseHost)
		}
		if !isRegionLabel(label) {
			return refuse("not a region name")
		}
		return "https://" + label + "." + b.Host, nil
	}
	sameHost := host == baseHost
	if baseHost == "localhost" && rest == "localhost" && isRegionLabel(label) {
		sameHost = true // {region}.localhost is loopback too (RFC 6761)
	}
	if !sameHost || origin(&url.URL{Scheme: "https", Host: net.JoinHostPort(host, loc.Port())}) !=
		origin(&url.URL{Scheme: b.Scheme, Host: net.JoinHostPort(host, b.Port())}) {
		return refuse("not the connection's own address " + origin(b))
	}
	prefix := ""
	if i := strings.Index(strings.ToLower(loc.Path), "/adminapi/"); i >= 0 {
		prefix = strings.TrimSuffix(loc.Path[:i], "/")
	}
	return "https://" + loc.Host + prefix, nil
}
