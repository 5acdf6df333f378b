package exo

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Cmdlets returns the cmdlets the caller's roles allow, sorted: the module's cmdlet catalog
// (GET {base}/adminapi/v1.0/{tenant}/EXOModuleFile with CommandName: *). For a Security &
// Compliance session it is the region's list. Throttling and unavailable answers are retried
// like a read-only cmdlet.
func (s *Session) Cmdlets(ctx context.Context) ([]string, error) {
	target := s.base + "/adminapi/v1.0/" + s.tenant + "/EXOModuleFile?Version=" + url.QueryEscape(ModuleVersion)
	requestID := uuid.NewString()
	reauthed := false
	var names []string
	err := s.retrying(ctx, "cmdlet catalog", func() (bool, error) {
		var retry bool
		var err error
		names, retry, err = s.catalogOnce(ctx, target, requestID, &reauthed)
		return retry, err
	})
	return names, err
}

func (s *Session) catalogOnce(ctx context.Context, target, requestID string, reauthed *bool) ([]string, bool, error) {
	const what = "EXOModuleFile"
	if s.closed.Load() {
		return nil, false, ErrNotConnected
	}
	tok, err := s.src.Token(ctx, s.scope)
	if err != nil {
		return nil, false, fmt.Errorf("cmdlet catalog: get a token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, false, fmt.Errorf("cmdlet catalog: %w", err)
	}
	h := req.Header
	s.setModuleHeaders(h, tok.AccessToken, requestID)
	h.Set("CommandName", "*")
	h.Set("Accept-Encoding", "gzip")
	resp, err := s.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, fmt.Errorf("cmdlet catalog: %w", ctx.Err())
		}
		return nil, true, fmt.Errorf("cmdlet catalog: cannot reach %s: %w", s.base, err)
	}
	defer resp.Body.Close()
	var rd io.Reader = resp.Body
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, true, fmt.Errorf("cmdlet catalog: bad gzip answer: %w", err)
		}
		defer gz.Close()
		rd = gz
	}
	b, err := io.ReadAll(io.LimitReader(rd, 16<<20))
	if err != nil {
		return nil, true, fmt.Errorf("cmdlet catalog: read the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		ce := parseCmdletError(what, resp, b)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !*reauthed:
			*reauthed = true
			return nil, true, ce
		case resp.StatusCode == http.StatusTooManyRequests,
			resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout:
			return nil, true, ce
		case ce.transient():
			return nil, true, ce
		}
		return nil, false, ce
	}
	names, err := parseCatalog(b)
	if err != nil {
		return nil, true, fmt.Errorf("cmdlet catalog: %w", err)
	}
	return names, false, nil
}

// parseCatalog reads EXOModuleFile's answer: {"value":[{"exportedCmdlets":"A,B,..."}]}.
func parseCatalog(b []byte) ([]string, error) {
	var body struct {
		Value []struct {
			ExportedCmdlets string `json:"exportedCmdlets"`
		} `json:"value"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, fmt.Errorf("the answer is not valid JSON: %w", err)
	}
	seen := map[string]bool{}
	var names []string
	for _, v := range body.Value {
		for n := range strings.SplitSeq(v.ExportedCmdlets, ",") {
			n = strings.TrimSpace(n)
			if n == "" || seen[strings.ToLower(n)] {
				continue
			}
			seen[strings.ToLower(n)] = true
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return names, nil
}

// commonParameters are the parameters of frequently used cmdlets, for completion: the catalog
// names cmdlets only. Not exhaustive.
var commonParameters = map[string][]string{
	"get-accepteddomain":             {"Identity"},
	"get-organizationconfig":         {"Identity"},
	"get-mailbox":                    {"Identity", "Anr", "Archive", "Filter", "InactiveMailboxOnly", "IncludeInactiveMailbox", "OrganizationalUnit", "PublicFolder", "RecipientTypeDetails", "ResultSize", "SoftDeletedMailbox", "SortBy"},
	"get-recipient":                  {"Identity", "Anr", "Filter", "IncludeSoftDeletedRecipients", "OrganizationalUnit", "Properties", "RecipientType", "RecipientTypeDetails", "ResultSize", "SortBy"},
	"get-exomailbox":                 {"Identity", "Anr", "Filter", "PropertySets", "Properties", "RecipientTypeDetails", "ResultSize"},
	"get-mailboxstatistics":          {"Identity", "Archive", "IncludeMoveHistory", "IncludeMoveReport"},
	"get-mailboxpermission":          {"Identity", "User", "Owner", "ResultSize"},
	"get-distributiongroup":          {"Identity", "Anr", "Filter", "ResultSize", "SortBy"},
	"get-distributiongroupmember":    {"Identity", "ResultSize"},
	"get-user":                       {"Identity", "Anr", "Filter", "RecipientTypeDetails", "ResultSize", "SortBy"},
	"set-mailbox":                    {"Identity", "DisplayName", "EmailAddresses", "ForwardingSmtpAddress", "DeliverToMailboxAndForward", "GrantSendOnBehalfTo", "HiddenFromAddressListsEnabled", "IssueWarningQuota", "LitigationHoldEnabled", "PrimarySmtpAddress", "ProhibitSendQuota", "ProhibitSendReceiveQuota", "RetentionPolicy", "Type", "WindowsEmailAddress", "Confirm", "WhatIf"},
	"new-mailbox":                    {"Name", "Alias", "DisplayName", "FirstName", "LastName", "MicrosoftOnlineServicesID", "Password", "PrimarySmtpAddress", "Room", "Equipment", "Shared", "Confirm", "WhatIf"},
	"remove-mailbox":                 {"Identity", "Permanent", "Confirm", "WhatIf"},
	"add-mailboxpermission":          {"Identity", "User", "AccessRights", "AutoMapping", "InheritanceType", "Confirm", "WhatIf"},
	"remove-mailboxpermission":       {"Identity", "User", "AccessRights", "InheritanceType", "Confirm", "WhatIf"},
	"add-distributiongroupmember":    {"Identity", "Member", "Confirm", "WhatIf"},
	"remove-distributiongroupmember": {"Identity", "Member", "Confirm", "WhatIf"},
	"get-compliancesearch":           {"Identity", "Case", "ResultSize"},
	"get-label":                      {"Identity", "IncludeDetailedLabelActions"},
	"get-labelpolicy":                {"Identity"},
	"get-dlpcompliancepolicy":        {"Identity", "DistributionDetail"},
	"get-retentioncompliancepolicy":  {"Identity", "DistributionDetail"},
}

// KnownParameters returns the parameter names exoctl knows for a cmdlet (case-insensitive), or
// nil. The service's catalog lists cmdlet names only, so this is a built-in table of common
// cmdlets, for completion; it never limits what may be sent.
func KnownParameters(cmdlet string) []string {
	return slices.Clone(commonParameters[strings.ToLower(cmdlet)])
}
