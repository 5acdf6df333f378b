package exchange

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/emuinfo"
	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
	"github.com/exoctl/exoctl/internal/jsontext"
)

// Defaults for Config fields left empty.
const (
	DefaultBackend          = "AM7PR01MB1234.eurprd01.prod.outlook.com"
	DefaultDomainController = "AM7PR01A001DC01.EURPR01A001.prod.outlook.com"
	DefaultRateLimit        = emuinfo.DefaultRateLimit
	DefaultRateWindow       = emuinfo.DefaultRateWindow
	DefaultMaxBody          = 4 << 20
	DefaultAuthorizationURI = "https://login.microsoftonline.com/common/oauth2/authorize"
	maxPageSize             = 1000
	moreResultsWarning      = "There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter."
	contentTypeJSON         = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
)

// Config configures the Exchange Online side of the emulator.
type Config struct {
	Store store.Store
	Keys  *token.Keys
	// BaseURL is the scheme and host clients use (https://127.0.0.1:8443); it prefixes
	// @odata.context and the absolute @odata.nextLink.
	BaseURL string
	// Audiences are the token audiences accepted. Empty means BaseURL,
	// https://outlook.office365.com and 00000002-0000-0ff1-ce00-000000000000.
	Audiences []string
	// Backend is the X-CalculatedBETarget FQDN (default DefaultBackend).
	Backend string
	// DomainController is the FQDN named in not-found errors and OriginatingServer
	// (default DefaultDomainController).
	DomainController string
	// AuthorizationURI goes into WWW-Authenticate on a 401 (default DefaultAuthorizationURI).
	AuthorizationURI string
	// RateLimit is the number of requests per tenant per RateWindow (defaults 30000 per hour);
	// a negative RateLimit turns the limit off (no Rate-Limit-* headers, never 429).
	RateLimit  int
	RateWindow time.Duration
	// MaxBody is the largest request body accepted (default 4 MiB); larger ones get 413.
	MaxBody int64
	// MaxBatchAnswer is the largest $batch answer, its inner answers together (default
	// DefaultMaxBatchAnswer); an inner answer that would pass it is replaced by a 413.
	MaxBatchAnswer int
	// Registry replaces the built-in cmdlets (tests, extensions); nil means Cmdlets().
	Registry *Registry
	Now      func() time.Time
	Logger   *slog.Logger
}

// Server answers the Exchange Online admin API (/adminapi/...). It is safe for concurrent use.
type Server struct {
	cfg        Config
	reg        *Registry
	dc         string
	dcDomain   string // EURPR01A001, the forest of DistinguishedNames
	auds       []string
	limiter    *limiter
	cursorKey  []byte
	log        *slog.Logger
	defaults   sync.Map // "tenant|class" -> true once the class's tenant defaults are written
	defaultsMu sync.Mutex
	// builtPages makes listings build each page in memory before writing it, as they did
	// before pages were streamed: what the tests compare streamed pages with.
	builtPages bool
}

// New returns a Server for cfg, filling in defaults.
func New(cfg Config) *Server {
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Backend == "" {
		cfg.Backend = DefaultBackend
	}
	if cfg.DomainController == "" {
		cfg.DomainController = DefaultDomainController
	}
	if cfg.AuthorizationURI == "" {
		cfg.AuthorizationURI = DefaultAuthorizationURI
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxBatchAnswer <= 0 {
		cfg.MaxBatchAnswer = DefaultMaxBatchAnswer
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	auds := cfg.Audiences
	if len(auds) == 0 {
		auds = []string{"https://outlook.office365.com", "00000002-0000-0ff1-ce00-000000000000"}
		if cfg.BaseURL != "" {
			auds = append(auds, cfg.BaseURL)
		}
	}
	reg := cfg.Registry
	if reg == nil {
		reg = Cmdlets()
	}
	dcDomain := "EURPR01A001"
	if _, rest, ok := strings.Cut(cfg.DomainController, "."); ok {
		dcDomain, _, _ = strings.Cut(rest, ".")
	}
	return &Server{
		cfg:       cfg,
		reg:       reg,
		dc:        cfg.DomainController,
		dcDomain:  strings.ToUpper(dcDomain),
		auds:      auds,
		limiter:   &limiter{limit: cfg.RateLimit, window: cfg.RateWindow, used: map[string]*window{}},
		cursorKey: cursorKey(cfg.Keys),
		log:       cfg.Logger,
	}
}

// route is a parsed /adminapi/{version}/{tenant}/{operation} path.
type route struct {
	version, tenant, op string
}

// CleanPath is the canonical form of a request path, the one every route is matched on: dot
// segments resolved, duplicate and trailing slashes dropped, always rooted. Clients write
// /AdminApi/v1.0/... or add a trailing slash; matching the canonical form means no spelling
// of a path reaches an operation its guards do not see (a nested $batch, for one).
func CleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	return path.Clean(p)
}

// parseRoute splits a path into version, tenant and operation. The fixed segments match in
// any case (as the service's do): the version comes back lower-cased, the tenant and the
// operation as the request spelled them.
func parseRoute(p string) (route, bool) {
	parts := strings.SplitN(strings.TrimPrefix(CleanPath(p), "/"), "/", 4)
	if len(parts) != 4 || !strings.EqualFold(parts[0], "adminapi") || parts[2] == "" || parts[3] == "" {
		return route{}, false
	}
	v := strings.ToLower(parts[1])
	if v != "beta" && v != "v1.0" {
		return route{}, false
	}
	// op is the rest of the path: InvokeCommand, or an entity path such as
	// Mailbox('alice')/Exchange.GetMailboxStatistics().
	return route{version: v, tenant: parts[2], op: parts[3]}, true
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("request-id", uuid.NewString())
	h.Set("X-CalculatedBETarget", s.cfg.Backend)
	h.Set("OData-Version", "4.0")
	h.Set("Cache-Control", "no-cache")

	rt, ok := parseRoute(r.URL.Path)
	if !ok {
		s.fail(w, r, &Error{Status: http.StatusNotFound, Code: "NotFound", ErrorID: "ResourceNotFound", Class: classODataError,
			Text: fmt.Sprintf("The resource '%s' wasn't found.", r.URL.Path)})
		return
	}
	op := strings.ToLower(rt.op)
	var entity *entityRequest
	switch op {
	case "invokecommand", "exomodulefile", "$batch":
	case "$metadata":
		s.metadata(w, r)
		return
	default:
		if er, ok := parseEntityPath(rt.op, strings.EqualFold(r.URL.Query().Get("isEncoded"), "true")); ok {
			entity = er
			break
		}
		s.fail(w, r, &Error{Status: http.StatusNotFound, Code: "NotFound", ErrorID: "ResourceNotFound", Class: classODataError,
			Text: fmt.Sprintf("The resource '%s' wasn't found.", rt.op)})
		return
	}
	caller, tenant, e := s.authenticate(r, rt.tenant)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	if e := s.throttle(w, tenant.ID); e != nil {
		s.fail(w, r, e)
		return
	}
	switch {
	case entity != nil:
		s.entitySet(w, r, rt, tenant, caller, entity)
	case op == "invokecommand":
		s.invokeCommand(w, r, rt, tenant, caller)
	case op == "exomodulefile":
		s.moduleFile(w, r, rt, caller)
	case op == "$batch":
		s.batch(w, r, rt)
	}
}

// fail writes an error answer. An internal failure (500) is logged in full and answered
// with a generic text and the request id: internal details (SQL, Go errors, panics) stay in
// the log, where an administrator finds them by that id.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *Error) {
	h := w.Header()
	h.Set("Content-Type", contentTypeJSON)
	rid := h.Get("request-id")
	if e.Status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "adminapi request failed", "path", r.URL.Path, "status", e.Status, "error", e.Text, "request_id", rid)
		generic := *e
		generic.Text = fmt.Sprintf("The server couldn't complete the request because of an internal error. Report the request id %s to the administrator of the service.", rid)
		e = &generic
	} else {
		s.log.DebugContext(r.Context(), "adminapi request failed", "path", r.URL.Path, "status", e.Status, "error", e.Text, "request_id", rid)
	}
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", fmt.Sprintf(`Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="%s", error="invalid_token", error_description="%s"`,
			quotedText(s.cfg.AuthorizationURI), quotedText(e.Text)))
	}
	w.WriteHeader(e.Status)
	w.Write(appendError(nil, e))
}

// quotedText makes text safe inside a quoted-string of a header: control bytes (a NUL or a
// line break a request smuggled into a path) become their %XX escapes, quotes become
// apostrophes and backslashes slashes, so nothing the caller sent can end the string or the
// header.
func quotedText(text string) string {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		case c == '"':
			b.WriteByte('\'')
		case c == '\\':
			b.WriteByte('/')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// badJSON is the answer to a body that isn't the JSON expected, in the caller's terms (where
// the body goes wrong) rather than the decoder's (which names Go types).
func badJSON(err error) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return errBadRequest(fmt.Sprintf("The request body isn't valid JSON (at byte %d).", syn.Offset))
	case errors.As(err, &typ) && typ.Field != "":
		return errBadRequest(fmt.Sprintf("The request body isn't valid: the field '%s' can't be a JSON %s.", typ.Field, typ.Value))
	case errors.As(err, &typ):
		return errBadRequest(fmt.Sprintf("The request body isn't valid: it can't be a JSON %s.", typ.Value))
	}
	return errBadRequest("The request body isn't valid JSON.")
}

// invokeBody is the InvokeCommand request body. encoding/json matches its keys in any case.
type invokeBody struct {
	CmdletInput struct {
		CmdletName string          `json:"CmdletName"`
		Parameters json.RawMessage `json:"Parameters"`
	} `json:"CmdletInput"`
}

func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLarge", ErrorID: "RequestEntityTooLarge", Class: classODataError,
			Text: fmt.Sprintf("The request body is larger than the limit of %d bytes.", s.cfg.MaxBody)}
	case err != nil:
		return nil, errBadRequest("The request body couldn't be read.")
	}
	return b, nil
}

func (s *Server) invokeCommand(w http.ResponseWriter, r *http.Request, rt route, tenant store.Tenant, caller Caller) {
	q := r.URL.Query()
	skip := q.Get("$skiptoken")
	if r.Method != http.MethodPost && !(r.Method == http.MethodGet && skip != "") {
		w.Header().Set("Allow", "POST")
		s.fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", ErrorID: "MethodNotAllowed", Class: classODataError,
			Text: fmt.Sprintf("The HTTP method '%s' isn't allowed for InvokeCommand; use POST.", r.Method)})
		return
	}
	raw, e := s.readBody(w, r)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	var in invokeBody
	if len(strings.TrimSpace(string(raw))) > 0 {
		if err := json.Unmarshal(raw, &in); err != nil {
			s.fail(w, r, badJSON(err))
			return
		}
	}
	var cur *cursor
	if skip != "" {
		c, ok := s.decodeCursor(skip)
		if !ok || !strings.EqualFold(c.Tenant, tenant.ID) {
			s.fail(w, r, errBadRequest("The $skiptoken isn't valid for this request."))
			return
		}
		cur = &c
	}
	name, params := in.CmdletInput.CmdletName, in.CmdletInput.Parameters
	if cur != nil && strings.TrimSpace(name) == "" {
		name, params = cur.Cmdlet, cur.Params
	}
	if strings.TrimSpace(name) == "" {
		s.fail(w, r, errBadRequest("The request body has no CmdletInput.CmdletName."))
		return
	}
	cmd := s.reg.Lookup(name)
	if cmd == nil || !caller.may(cmd) {
		s.fail(w, r, errUnknownCmdlet(strings.TrimSpace(name)))
		return
	}
	bound, set, e := cmd.bind(params)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	if !cmd.Emulated() {
		s.fail(w, r, errNotEmulated(cmd.Name, s.reg.Product()))
		return
	}
	sel := q.Get("$select")
	remaining := int64(-1)
	if rs, ok := bound.ResultSize(); ok && !rs.Unlimited {
		remaining = rs.N
	}
	budget := remaining // what the same body asks for again at the next link
	after := ""
	if cur != nil {
		if cur.Cmdlet != cmd.Name || cur.Hash != bound.hash() {
			s.fail(w, r, errBadRequest("The $skiptoken was issued for a different cmdlet or different parameters."))
			return
		}
		remaining, after = cur.Remaining, cur.After
		if cur.Select != "" {
			sel = cur.Select
		}
		if params == nil {
			params = cur.Params
		}
	}
	size := pageSize(r.Header.Values("Prefer"))
	limit := size
	if remaining >= 0 && remaining < int64(limit) {
		limit = int(remaining)
	}
	inv := &Invocation{Cmdlet: cmd, Params: bound, ParameterSet: set, Tenant: tenant, Caller: caller, Store: s.cfg.Store,
		After: after, Limit: limit, srv: s}
	res, err := s.run(r.Context(), inv)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client went away
		}
		s.fail(w, r, asError(err))
		return
	}
	page := pageOut{result: res, sel: parseSelect(sel), confirmation: inv.confirmation,
		context: s.cfg.BaseURL + "/adminapi/" + rt.version + "/" + rt.tenant + "/$metadata#Collection(Exchange.GenericHashTable)"}
	page.warnings = append(page.warnings, res.Warnings...)
	// end gives the page its next link, from how many objects it holds and the store cursor
	// where the next starts.
	page.end = func(count int, next string) {
		if next == "" {
			return
		}
		left := remaining
		if left >= 0 {
			left -= int64(count)
		}
		if left == 0 {
			// ResultSize is reached and more exist: the service warns and still gives the next
			// link (captured, exo/testdata/captures/invoke-get-mailbox-more); a client that
			// follows it re-sends the same ResultSize, so it gets that many more.
			page.warnings = append(page.warnings, moreResultsWarning)
			left = budget
		}
		tok := s.encodeCursor(cursor{Tenant: tenant.ID, Cmdlet: cmd.Name, Hash: bound.hash(), Params: params,
			After: next, Remaining: left, Select: sel})
		page.next = s.cfg.BaseURL + "/adminapi/" + rt.version + "/" + rt.tenant + "/InvokeCommand?$skiptoken=" + tok
	}
	if h := r.Header.Values("Prefer"); len(h) > 0 && strings.Contains(strings.ToLower(strings.Join(h, ",")), "odata.maxpagesize") {
		w.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(size))
	}
	if res.stream != nil && inv.confirmation == "" {
		// A page with a next link is full: it holds limit objects.
		s.writeStream(w, r, &page, limit)
		return
	}
	page.end(res.Count, res.Next)
	s.writePage(w, r, page)
}

// run calls the cmdlet, turning a panic into a 500 rather than a dropped connection.
func (s *Server) run(ctx context.Context, inv *Invocation) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("cmdlet panicked", "cmdlet", inv.Cmdlet.Name, "panic", p)
			err = errInternal(fmt.Sprintf("The cmdlet %s failed: %v", inv.Cmdlet.Name, p))
		}
	}()
	res, err = inv.Cmdlet.Run(ctx, inv)
	if err == nil && res == nil {
		res = &Result{}
	}
	if err == nil && res.Each == nil && res.stream == nil {
		res.Each = func(func(Object) bool) {}
		res.Count = 0
	}
	return res, err
}

// asError maps a cmdlet's error onto the service's error answer.
func asError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrAmbiguous):
		return errAmbiguous(err.Error())
	}
	return errInternal(err.Error())
}

// pageSize reads Prefer: odata.maxpagesize=N (default and cap 1000).
func pageSize(prefer []string) int {
	for _, h := range prefer {
		for _, part := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`))
			if err != nil || n <= 0 {
				return maxPageSize
			}
			return min(n, maxPageSize)
		}
	}
	return maxPageSize
}

// pageOut is what one success answer holds.
type pageOut struct {
	context      string
	warnings     []string
	result       *Result
	sel          selection
	next         string
	confirmation string
	// end sets next (and the warnings) from the page's count and store cursor.
	end func(count int, next string)
}

// startPage sends the status and headers of a success answer and returns where its body goes
// and a function that ends it.
func startPage(w http.ResponseWriter, r *http.Request) (io.Writer, func()) {
	w.Header().Set("Content-Type", contentTypeJSON)
	if !acceptsGzip(r.Header.Values("Accept-Encoding")) || loopback(r.RemoteAddr) {
		w.WriteHeader(http.StatusOK)
		return w, func() {}
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Add("Vary", "Accept-Encoding")
	gz := gzipWriters.Get().(*gzip.Writer)
	gz.Reset(w)
	w.WriteHeader(http.StatusOK)
	return gz, func() {
		gz.Close()
		gz.Reset(io.Discard)
		gzipWriters.Put(gz)
	}
}

// appendEnvelope appends what a page holds before its objects.
func appendEnvelope(b []byte, p *pageOut) []byte {
	b = append(b, `{"@odata.context":`...)
	b = jsontext.AppendString(b, p.context)
	if p.next != "" {
		// Before the annotations and the records, as the service (ODataLib) writes a next link
		// known when the page starts.
		b = append(b, `,"@odata.nextLink":`...)
		b = jsontext.AppendString(b, p.next)
	}
	b = append(b, `,"adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":`...)
	b = appendStrings(b, p.warnings)
	if p.result != nil && len(p.result.Errors) > 0 {
		b = append(b, `,"adminapi.errors@odata.type":"#Collection(String)","@adminapi.errors":`...)
		b = appendStrings(b, p.result.Errors)
	}
	if p.confirmation != "" {
		b = append(b, `,"@adminapi.confirmationmessage":`...)
		b = jsontext.AppendString(b, p.confirmation)
	}
	return append(b, `,"value":[`...)
}

// writePage streams a success answer: the envelope, then each object as it is encoded.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, p pageOut) {
	bw, done := startPage(w, r)
	defer done()
	b := make([]byte, 0, pageChunk+16<<10)
	b = appendEnvelope(b, &p)
	first := true
	var werr error
	if p.result != nil && p.confirmation == "" {
		p.result.Each(func(o Object) bool {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendObject(b, o, p.sel)
			if len(b) >= pageChunk {
				_, werr = bw.Write(b)
				b = b[:0]
			}
			return werr == nil
		})
	}
	if werr != nil {
		return
	}
	b = append(b, ']', '}')
	bw.Write(b)
}

// writeStream writes a page as it reads it from the store (stream.go): the store says where
// the page ends (its next link) before the first object. The status goes out with the first
// object, so that a listing the store refuses (a bad cursor, a filter that fails, the
// database) still gets its error answer; a failure after that ends the answer abruptly, so
// that the client cannot take a cut page for a whole one. A page with a next link holds
// limit objects.
func (s *Server) writeStream(w http.ResponseWriter, r *http.Request, p *pageOut, limit int) {
	st := p.result.stream
	pr := newRawPrinter(st.s, st.org, p.sel)
	var (
		bw    io.Writer
		done  func()
		b     []byte
		count int
		werr  error
	)
	defer func() {
		if done != nil {
			done()
		}
	}()
	begin := func() {
		bw, done = startPage(w, r)
		b = appendEnvelope(make([]byte, 0, pageChunk+16<<10), p)
	}
	err := st.list(r.Context(), func(next string) error {
		p.end(limit, next)
		return nil
	}, func(o *store.Object) error {
		if bw == nil {
			begin()
		} else if count > 0 {
			b = append(b, ',')
		}
		count++
		var err error
		if b, err = pr.append(b, o); err != nil {
			return err
		}
		if len(b) >= pageChunk {
			if _, werr = bw.Write(b); werr != nil {
				return werr
			}
			b = b[:0]
		}
		return nil
	})
	switch {
	case werr != nil || (err != nil && r.Context().Err() != nil):
		return // the client went away
	case err != nil && bw == nil:
		s.fail(w, r, asError(err))
		return
	case err != nil:
		s.log.ErrorContext(r.Context(), "adminapi page failed after it started", "path", r.URL.Path, "error", err, "request_id", w.Header().Get("request-id"))
		panic(http.ErrAbortHandler)
	}
	if bw == nil {
		begin()
	}
	bw.Write(append(b, ']', '}'))
}

// loopback reports whether a request came over loopback. Pages are gzipped, as the service
// does, only for other peers: on loopback compressing and decompressing cost more than the
// bytes saved (measured with scripts/bench.sh: Get-Mailbox -ResultSize Unlimited over 100,000
// mailboxes took 10% longer gzipped, for exoctl and for the raw Go loop).
func loopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// gzipWriters are the compressors of pages, at flate's level 2: on these pages as fast as
// level 1 and smaller (17x smaller than the JSON).
var gzipWriters = sync.Pool{New: func() any {
	gz, _ := gzip.NewWriterLevel(io.Discard, 2)
	return gz
}}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (and not with q=0).
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.ReplaceAll(strings.ToLower(params), " ", ""), "q=")
			if !ok {
				return true
			}
			f, err := strconv.ParseFloat(q, 64)
			return err == nil && f > 0
		}
	}
	return false
}

// pageChunk is how much of a page is encoded before it is written: large writes, few syscalls.
const pageChunk = 64 << 10

func appendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, s)
	}
	return append(b, ']')
}

// moduleFile answers EXOModuleFile: the emulated cmdlets the caller's roles allow, and the
// generated ExchangeOnline.psm1 of exactly those.
func (s *Server) moduleFile(w http.ResponseWriter, r *http.Request, rt route, caller Caller) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET")
		s.fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", ErrorID: "MethodNotAllowed", Class: classODataError,
			Text: fmt.Sprintf("The HTTP method '%s' isn't allowed for EXOModuleFile; use GET.", r.Method)})
		return
	}
	var wanted map[string]bool
	if cn := strings.TrimSpace(r.Header.Get("CommandName")); cn != "" && cn != "*" {
		wanted = map[string]bool{}
		for _, n := range strings.Split(cn, ",") {
			wanted[strings.ToLower(strings.TrimSpace(n))] = true
		}
	}
	var names []string
	for _, n := range s.reg.Names() {
		if caller.may(s.reg.Lookup(n)) && (wanted == nil || wanted[strings.ToLower(n)]) {
			names = append(names, n)
		}
	}
	version := r.URL.Query().Get("Version")
	b := []byte(`{"@odata.context":`)
	b = jsontext.AppendString(b, s.cfg.BaseURL+"/adminapi/"+rt.version+"/"+rt.tenant+"/$metadata#EXOModuleFile")
	b = append(b, `,"value":[{"exportedCmdlets":`...)
	b = jsontext.AppendString(b, strings.Join(names, ","))
	b = append(b, `,"fileName":"ExchangeOnline.psm1","fileContent":`...)
	b = jsontext.AppendString(b, s.reg.ModuleFile(names))
	b = append(b, `,"version":`...)
	b = jsontext.AppendString(b, version)
	b = append(b, `}]}`...)
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// limiter is a fixed-window request budget per tenant.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	used   map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// take spends one request of the tenant's budget.
func (l *limiter) take(tenant string, now time.Time) (remaining int, reset time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.used[tenant]
	if w == nil || now.Sub(w.start) >= l.window || now.Before(w.start) {
		w = &window{start: now}
		l.used[tenant] = w
	}
	reset = w.start.Add(l.window)
	if w.n >= l.limit {
		return 0, reset, false
	}
	w.n++
	return l.limit - w.n, reset, true
}

// throttle spends a request and sets the Rate-Limit-* headers; it returns the 429 error when
// the tenant's budget is gone.
func (s *Server) throttle(w http.ResponseWriter, tenantID string) *Error {
	if s.cfg.RateLimit < 0 {
		return nil
	}
	now := s.cfg.Now()
	remaining, reset, ok := s.limiter.take(strings.ToLower(tenantID), now)
	h := w.Header()
	h.Set("Rate-Limit-Limit", strconv.Itoa(s.cfg.RateLimit))
	h.Set("Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("Rate-Limit-Reset", reset.UTC().Format("2006-01-02T15:04:05.000Z"))
	if ok {
		return nil
	}
	wait := reset.Sub(now)
	secs := int64((wait + time.Second - 1) / time.Second)
	h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	return errThrottled(fmt.Sprintf("The tenant has reached its limit of %d requests per %s. Try again after %s.",
		s.cfg.RateLimit, s.cfg.RateWindow, reset.UTC().Format(time.RFC3339)))
}
