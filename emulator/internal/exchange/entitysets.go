package exchange

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/internal/jsontext"
)

// The admin API's typed entity sets, which the module's Get-EXO* cmdlets read instead of
// InvokeCommand (the service's $metadata: sets Mailbox, Recipient, CasMailbox, bound functions
// Exchange.GetMailboxStatistics, Exchange.GetMailboxFolderStatistics,
// Exchange.GetMobileDeviceStatistics, Exchange.GetRecipientPermissionByFilters, navigations
// MailboxPermission and MailboxFolder/MailboxFolderPermission). Each request runs the cmdlet
// that answers the same question (Get-Mailbox for /Mailbox, ...) through InvokeCommand's
// pipeline: the same binder, roles, paging and not-emulated answer.

// EntitySets are the entity sets and bound functions the emulator serves, with the cmdlet that
// answers each: the Get-EXO* cmdlet that reads it is the key of the module's own mapping.
var EntitySets = []EntitySet{
	{Path: "Mailbox", Cmdlet: "Get-Mailbox", EXO: "Get-EXOMailbox", Key: "Identity"},
	{Path: "Recipient", Cmdlet: "Get-Recipient", EXO: "Get-EXORecipient", Key: "Identity"},
	{Path: "CasMailbox", Cmdlet: "Get-CASMailbox", EXO: "Get-EXOCASMailbox", Key: "Identity"},
	{Path: "Mailbox/Exchange.GetMailboxStatistics", Cmdlet: "Get-MailboxStatistics", EXO: "Get-EXOMailboxStatistics", Key: "Identity", Single: true},
	{Path: "Mailbox/MailboxPermission", Cmdlet: "Get-MailboxPermission", EXO: "Get-EXOMailboxPermission", Key: "Identity"},
	{Path: "Recipient/Exchange.GetRecipientPermissionByFilters", Cmdlet: "Get-RecipientPermission", EXO: "Get-EXORecipientPermission", Key: "Identity"},
	{Path: "Mailbox/MailboxFolder/Exchange.GetMailboxFolderStatistics", Cmdlet: "Get-MailboxFolderStatistics", EXO: "Get-EXOMailboxFolderStatistics", Key: "Identity"},
	{Path: "Mailbox/MailboxFolder/MailboxFolderPermission", Cmdlet: "Get-MailboxFolderPermission", EXO: "Get-EXOMailboxFolderPermission", Key: "Identity"},
	{Path: "Mailbox/MobileDevice/Exchange.GetMobileDeviceStatistics", Cmdlet: "Get-MobileDeviceStatistics", EXO: "Get-EXOMobileDeviceStatistics", Key: "Mailbox"},
	{Path: "Recipient/Exchange.BySmtpAddress", Cmdlet: "Get-Recipient", Key: "Identity", Single: true},
	{Path: "CasMailbox/Exchange.BySmtpAddress", Cmdlet: "Get-CASMailbox", Key: "Identity", Single: true},
}

// EntitySet is one served entity set or bound function.
type EntitySet struct {
	// Path is the request path after the tenant, keys left out: Mailbox('alice')/MailboxPermission
	// is Mailbox/MailboxPermission.
	Path string
	// Cmdlet answers the request; EXO is the module cmdlet that sends it.
	Cmdlet, EXO string
	// Key is the cmdlet parameter the (first) entity key binds to.
	Key string
	// Single answers one object rather than a collection.
	Single bool
}

// entityRequest is a parsed entity-set path.
type entityRequest struct {
	set       *EntitySet
	keys      []string          // the entity keys along the path, decoded
	fnArgs    map[string]string // a bound function's arguments
	singleKey bool              // Mailbox('x') alone: one entity
}

// parseEntityPath reads Set('key')/Nav('key')/Exchange.Function(a='b') against EntitySets.
func parseEntityPath(op string, encoded bool) (*entityRequest, bool) {
	segs := splitSegments(op)
	var names, keys []string
	args := map[string]string{}
	for i, seg := range segs {
		name, inner, hasParen := strings.Cut(seg, "(")
		names = append(names, name)
		if !hasParen {
			continue
		}
		inner = strings.TrimSuffix(inner, ")")
		if strings.HasPrefix(strings.ToLower(name), "exchange.") && i == len(segs)-1 {
			for _, kv := range splitArgs(inner) {
				k, v, ok := strings.Cut(kv, "=")
				if ok {
					args[strings.ToLower(strings.TrimSpace(k))] = unquote(strings.TrimSpace(v))
				}
			}
			continue
		}
		if inner == "" {
			continue
		}
		k := unquote(inner)
		if encoded {
			if b, err := base64.StdEncoding.DecodeString(k); err == nil {
				k = string(b)
			} else if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k, "=")); err == nil {
				k = string(b)
			}
		}
		keys = append(keys, k)
	}
	path := strings.Join(names, "/")
	for i := range EntitySets {
		es := &EntitySets[i]
		if !strings.EqualFold(es.Path, path) && !(es.Cmdlet == "Get-MailboxStatistics" && strings.EqualFold(path, "Mailbox/MailboxStatistics")) {
			continue
		}
		req := &entityRequest{set: es, keys: keys, fnArgs: args}
		req.singleKey = len(segs) == 1 && len(keys) == 1
		return req, true
	}
	return nil, false
}

// splitSegments splits a path on "/" outside quotes and parentheses.
func splitSegments(p string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '/' && depth == 0:
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// splitArgs splits a function's argument list on commas outside quotes.
func splitArgs(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		out = append(out, s[start:])
	}
	return out
}

// unquote reads an OData string literal ('it”s') or returns a bare value as it is.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'")
	}
	return v
}

// entityParams turns the request into the cmdlet's parameters: the keys, the function's
// arguments, $filter (OPATH, as the Get-EXO* cmdlets' -Filter), Anr and $top.
func (er *entityRequest) params(q url.Values) (map[string]any, error) {
	p := map[string]any{}
	es := er.set
	switch es.Cmdlet {
	case "Get-MailboxFolderPermission":
		if len(er.keys) >= 2 {
			folder := er.keys[1]
			if !strings.HasPrefix(folder, `\`) {
				folder = `\` + folder
			}
			p["Identity"] = er.keys[0] + ":" + folder
		} else if len(er.keys) == 1 {
			p["Identity"] = er.keys[0]
		}
	default:
		if len(er.keys) > 0 {
			p[es.Key] = er.keys[0]
		}
	}
	for k, v := range er.fnArgs {
		switch k {
		case "identity":
			p["Identity"] = v
		case "trustee":
			p["Trustee"] = v
		case "accessrights":
			p["AccessRights"] = v
		case "folderscope":
			p["FolderScope"] = v
		case "smtpaddress":
			p["Identity"] = v
		}
	}
	if f := strings.TrimSpace(q.Get("$filter")); f != "" {
		p["Filter"] = f
	}
	if a := strings.TrimSpace(q.Get("Anr")); a != "" {
		p["Anr"] = a
	}
	if t := strings.TrimSpace(q.Get("$top")); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("the value '%s' of $top isn't a positive number", t)
		}
		p["ResultSize"] = n
	} else if !er.singleKey && !es.Single {
		p["ResultSize"] = "Unlimited"
	}
	return p, nil
}

// entitySet answers GET /adminapi/{version}/{tenant}/{entity path}: the cmdlet's objects as
// the set's collection (paged by @odata.nextLink), or one entity for a key or a single-valued
// function.
func (s *Server) entitySet(w http.ResponseWriter, r *http.Request, rt route, tenant store.Tenant, caller Caller, er *entityRequest) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		s.fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", ErrorID: "MethodNotAllowed", Class: classODataError,
			Text: fmt.Sprintf("The HTTP method '%s' isn't allowed for %s; use GET.", r.Method, er.set.Path)})
		return
	}
	q := r.URL.Query()
	params, err := er.params(q)
	if err != nil {
		s.fail(w, r, errBadRequest(err.Error()))
		return
	}
	body, err := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": er.set.Cmdlet, "Parameters": params}})
	if err != nil {
		s.fail(w, r, errInternal(err.Error()))
		return
	}
	u := &url.URL{Path: "/adminapi/" + rt.version + "/" + rt.tenant + "/InvokeCommand"}
	if sel := q.Get("$select"); sel != "" {
		u.RawQuery = url.Values{"$select": {sel}}.Encode()
	}
	r2 := r.Clone(r.Context())
	r2.Method, r2.URL, r2.RequestURI = http.MethodPost, u, ""
	r2.Body = httpBody(body)
	r2.ContentLength = int64(len(body))
	r2.Header.Del("Accept-Encoding") // the page is re-read here, not streamed to the client
	single := er.singleKey || er.set.Single
	if !single {
		s.invokeCommand(&contextWriter{ResponseWriter: w, context: s.entityContext(rt, er)}, r2, rt, tenant, caller)
		return
	}
	rec := httptest.NewRecorder()
	s.invokeCommand(rec, r2, rt, tenant, caller)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	if rec.Code != http.StatusOK {
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Value) == 0 {
		key := ""
		if len(er.keys) > 0 {
			key = er.keys[0]
		}
		s.fail(w, r, errNotFound(key, s.dc))
		return
	}
	obj := bytes.TrimSpace(page.Value[0])
	out := []byte(`{"@odata.context":`)
	out = jsontext.AppendString(out, s.entityContext(rt, er)+"/$entity")
	if len(obj) > 2 {
		out = append(out, ',')
		out = append(out, obj[1:]...)
	} else {
		out = append(out, '}')
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// entityContext is the @odata.context of an entity-set answer: $metadata#{Set}.
func (s *Server) entityContext(rt route, er *entityRequest) string {
	set, _, _ := strings.Cut(er.set.Path, "/")
	switch er.set.Cmdlet {
	case "Get-MailboxStatistics":
		set = "Exchange.MailboxStatistics"
	case "Get-MailboxPermission":
		set = "Mailbox/MailboxPermission"
	}
	return s.cfg.BaseURL + "/adminapi/" + rt.version + "/" + rt.tenant + "/$metadata#" + set
}

// contextWriter rewrites the @odata.context InvokeCommand writes first in its answer into the
// entity set's, leaving the streamed rest of the page alone.
type contextWriter struct {
	http.ResponseWriter
	context string
	done    bool
	status  int
}

func (c *contextWriter) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *contextWriter) Write(b []byte) (int, error) {
	if c.done || (c.status != 0 && c.status != http.StatusOK) {
		return c.ResponseWriter.Write(b)
	}
	c.done = true
	const prefix = `{"@odata.context":"`
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return c.ResponseWriter.Write(b)
	}
	end := bytes.IndexByte(b[len(prefix):], '"')
	if end < 0 {
		return c.ResponseWriter.Write(b)
	}
	out := jsontext.AppendString([]byte(`{"@odata.context":`), c.context)
	out = append(out, b[len(prefix)+end+1:]...)
	if _, err := c.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *contextWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func httpBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

// metadata answers $metadata: a CSDL document of the entity sets and bound functions the
// emulator serves, the untyped Exchange.GenericHashTable every InvokeCommand answer's
// @odata.context names, Exchange.StringFieldDeltaUpdateData (Add/Remove on a multi-valued
// property) and the InvokeCommand action, in the service's namespace and names.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		s.fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", ErrorID: "MethodNotAllowed", Class: classODataError,
			Text: fmt.Sprintf("The HTTP method '%s' isn't allowed for $metadata; use GET.", r.Method)})
		return
	}
	w.Header().Set("Content-Type", "application/xml;charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(metadataDocument())
	}
}

// metadataDocument is built once from EntitySets, on first use.
var metadataDocument = sync.OnceValue(func() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>`)
	b.WriteString(`<Schema Namespace="Exchange" xmlns="http://docs.oasis-open.org/odata/ns/edm">`)
	b.WriteString(`<ComplexType Name="ComplexEntry" Abstract="true"><Property Name="ChangedProperties" Type="Collection(Edm.String)" /></ComplexType>`)
	b.WriteString(`<ComplexType Name="StringFieldDeltaUpdateData" BaseType="Exchange.ComplexEntry"><Property Name="Add" Type="Collection(Edm.String)" /><Property Name="Remove" Type="Collection(Edm.String)" /></ComplexType>`)
	b.WriteString(`<ComplexType Name="GenericHashTable" OpenType="true" />`)
	b.WriteString(`<ComplexType Name="CmdletInvokeInputType"><Property Name="CmdletName" Type="Edm.String" Nullable="false" /><Property Name="Parameters" Type="Exchange.GenericHashTable" /></ComplexType>`)
	types := []struct{ name, key string }{
		{"Mailbox", "ExternalDirectoryObjectId"}, {"Recipient", "ExternalDirectoryObjectId"}, {"CasMailbox", "ExternalDirectoryObjectId"},
		{"MailboxPermission", "PermissionId"}, {"MailboxFolder", "Identity"}, {"MailboxFolderPermission", "Identity"}, {"MobileDevice", "Identity"},
	}
	for _, t := range types {
		fmt.Fprintf(&b, `<EntityType Name="%s" OpenType="true"><Key><PropertyRef Name="%s" /></Key><Property Name="%s" Type="Edm.String" Nullable="false" />`, t.name, t.key, t.key)
		switch t.name {
		case "Mailbox":
			b.WriteString(`<NavigationProperty Name="MailboxPermission" Type="Collection(Exchange.MailboxPermission)" ContainsTarget="true" />`)
			b.WriteString(`<NavigationProperty Name="MailboxFolder" Type="Collection(Exchange.MailboxFolder)" ContainsTarget="true" />`)
			b.WriteString(`<NavigationProperty Name="MobileDevice" Type="Collection(Exchange.MobileDevice)" ContainsTarget="true" />`)
		case "MailboxFolder":
			b.WriteString(`<NavigationProperty Name="MailboxFolderPermission" Type="Collection(Exchange.MailboxFolderPermission)" ContainsTarget="true" />`)
		}
		b.WriteString(`</EntityType>`)
	}
	for _, c := range []string{"MailboxStatistics", "MailboxFolderStatistics", "MobileDeviceStatistics"} {
		fmt.Fprintf(&b, `<ComplexType Name="%s" BaseType="Exchange.ComplexEntry" OpenType="true" />`, c)
	}
	b.WriteString(`<Function Name="GetMailboxStatistics" IsBound="true"><Parameter Name="mailbox" Type="Exchange.Mailbox" Nullable="false" /><ReturnType Type="Exchange.MailboxStatistics" /></Function>`)
	b.WriteString(`<Function Name="GetMailboxFolderStatistics" IsBound="true"><Parameter Name="mailboxfolder" Type="Collection(Exchange.MailboxFolder)" Nullable="false" /><Parameter Name="folderscope" Type="Edm.String" /><ReturnType Type="Collection(Exchange.MailboxFolderStatistics)" /></Function>`)
	b.WriteString(`<Function Name="GetMobileDeviceStatistics" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(Exchange.MobileDevice)" Nullable="false" /><ReturnType Type="Collection(Exchange.MobileDeviceStatistics)" /></Function>`)
	b.WriteString(`<Function Name="GetRecipientPermissionByFilters" IsBound="true" EntitySetPath="Recipient"><Parameter Name="Recipient" Type="Collection(Exchange.Recipient)" Nullable="false" /><Parameter Name="identity" Type="Edm.String" /><Parameter Name="trustee" Type="Edm.String" /><Parameter Name="accessRights" Type="Collection(Edm.String)" /><ReturnType Type="Collection(Exchange.Recipient)" /></Function>`)
	b.WriteString(`<Function Name="BySmtpAddress" IsBound="true" EntitySetPath="Recipient"><Parameter Name="Recipient" Type="Collection(Exchange.Recipient)" Nullable="false" /><Parameter Name="SmtpAddress" Type="Edm.String" /><ReturnType Type="Exchange.Recipient" /></Function>`)
	b.WriteString(`<Action Name="InvokeCommand"><Parameter Name="CmdletInput" Type="Exchange.CmdletInvokeInputType" Nullable="false" /><ReturnType Type="Collection(Exchange.GenericHashTable)" /></Action>`)
	b.WriteString(`<EntityContainer Name="container">`)
	for _, t := range []string{"Mailbox", "CasMailbox", "Recipient"} {
		fmt.Fprintf(&b, `<EntitySet Name="%s" EntityType="Exchange.%s" />`, t, t)
	}
	b.WriteString(`<ActionImport Name="InvokeCommand" Action="Exchange.InvokeCommand" />`)
	b.WriteString(`</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>`)
	return []byte(b.String())
})
