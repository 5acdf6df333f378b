package exo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/auth"
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
func (s *Session) discoverRegion(ctx context.Context, tok auth.Token, base string) (string, error) {
	target := base + "/adminapi/beta/" + s.tenant + "/" + complianceBanner + "?Version=" + ModuleVersion
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", err
	}
	s.setModuleHeaders(req.Header, tok.AccessToken, uuid.NewString())

	hc := *s.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("find the Security & Compliance region at %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode/100 == 2:
		return base, nil // no region to go to: the base answers itself
	case resp.StatusCode/100 == 3:
		loc, err := resp.Location()
		if err != nil {
			return "", fmt.Errorf("find the Security & Compliance region at %s: a %d answer without a usable Location (%v)", base, resp.StatusCode, err)
		}
		return regionBase(loc, base)
	}
	return "", fmt.Errorf("find the Security & Compliance region: %w", parseCmdletError("Connect-IPPSSession", resp, body))
}

// regionBase turns the Location of region discovery into the region's REST base. The service
// sends https://{region}.admin.protection.outlook.com:446/...; clients keep the first label and
// call https://{region}.{compliance base host}, e.g. eur03b.ps.compliance.protection.outlook.com.
// Any other Location (an IP address, as the emulator's, or a host that is not an
// admin.protection one) is used as it is: its scheme, host and port, and the path before
// /adminapi/.
func regionBase(loc *url.URL, base string) (string, error) {
	host := loc.Hostname()
	if label, rest, ok := strings.Cut(host, "."); ok && label != "" && net.ParseIP(host) == nil &&
		strings.HasPrefix(strings.ToLower(rest), "admin.protection.") {
		b, err := url.Parse(base)
		if err != nil || b.Host == "" {
			return "", fmt.Errorf("compliance base %q is not a URL", base)
		}
		return "https://" + strings.ToLower(label) + "." + b.Host, nil
	}
	if loc.Host == "" || (loc.Scheme != "https" && loc.Scheme != "http") {
		return "", fmt.Errorf("region discovery sent %q, not an http(s) URL", loc.String())
	}
	prefix := ""
	if i := strings.Index(strings.ToLower(loc.Path), "/adminapi/"); i >= 0 {
		prefix = strings.TrimSuffix(loc.Path[:i], "/")
	}
	return loc.Scheme + "://" + loc.Host + prefix, nil
}
