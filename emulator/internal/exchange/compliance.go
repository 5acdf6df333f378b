package exchange

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// This file is what other admin API endpoints built on this server need beyond ServeHTTP: the
// Security & Compliance endpoint (emulator/compliance) is a Server with its own registry and
// audiences, and answers its region discovery (EXOBanner) with these.

// Authorize checks a request as InvokeCommand does (bearer token, audience, the tenant of the
// URL, the tenant's request budget) and sets the service's response headers. When the request is
// refused it writes the error answer and returns false.
func (s *Server) Authorize(w http.ResponseWriter, r *http.Request, tenant string) (Caller, store.Tenant, bool) {
	h := w.Header()
	h.Set("request-id", uuid.NewString())
	h.Set("X-CalculatedBETarget", s.cfg.Backend)
	h.Set("OData-Version", "4.0")
	h.Set("Cache-Control", "no-cache")
	caller, t, e := s.authenticate(r, tenant)
	if e == nil {
		e = s.throttle(w, t.ID)
	}
	if e != nil {
		s.fail(w, r, e)
		return Caller{}, store.Tenant{}, false
	}
	return caller, t, true
}

// Objects is one page of a ready list of objects, paged by offset: the answer of a cmdlet whose
// objects are few and built in memory.
func Objects(list []Object, after string, limit int) *Result { return objects(list, after, limit) }
