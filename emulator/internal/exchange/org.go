package exchange

import (
	"crypto/sha1"
	"strings"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// org holds the per-tenant strings every object of a page repeats.
type org struct {
	tenant     store.Tenant
	dc         string // originating server
	forest     string // EURPR01A001.prod.outlook.com
	root       string // contoso.onmicrosoft.com
	ou         string // EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com
	orgID      string
	dnSuffix   string // ,OU=contoso.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM
	configDN   string // CN=Configuration,CN=contoso.onmicrosoft.com,CN=ConfigurationUnits,DC=...
	person     string // ObjectCategory of users
	schemaRoot string
}

func (s *Server) org(t store.Tenant) *org {
	forest := s.dc
	if _, rest, ok := strings.Cut(s.dc, "."); ok {
		forest = rest
	}
	var dcs []string
	for _, part := range strings.Split(forest, ".") {
		dcs = append(dcs, "DC="+strings.ToUpper(part))
	}
	dcPath := strings.Join(dcs, ",")
	root := t.Name
	schema := strings.ToUpper(forest) + "/Configuration/Schema/"
	return &org{
		tenant:     t,
		dc:         s.dc,
		forest:     forest,
		root:       root,
		ou:         forest + "/Microsoft Exchange Hosted Organizations/" + root,
		orgID:      forest + "/Microsoft Exchange Hosted Organizations/" + root + " - " + forest + "/ConfigurationUnits/" + root + "/Configuration",
		dnSuffix:   ",OU=" + root + ",OU=Microsoft Exchange Hosted Organizations," + dcPath,
		configDN:   "CN=Configuration,CN=" + root + ",CN=ConfigurationUnits," + dcPath,
		person:     schema + "Person",
		schemaRoot: schema,
	}
}

var exoNamespace = uuid.MustParse("5c4d3a2f-1b0e-4f6a-9d8c-7e6f5a4b3c2d")

// derivedGUID makes a stable GUID for a property the store does not keep (ExchangeGuid, ...).
func derivedGUID(kind, guid string) string {
	// uuid.NewSHA1(exoNamespace, kind+NUL+lower(guid)), hashed from a buffer on the stack:
	// pages print several derived GUIDs per object.
	var in [160]byte
	b := append(in[:0], exoNamespace[:]...)
	b = append(append(append(b, kind...), 0), strings.ToLower(guid)...)
	sum := sha1.Sum(b)
	var u uuid.UUID
	copy(u[:], sum[:])
	u[6] = (u[6] & 0x0f) | 0x50 // version 5
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	return u.String()
}

const (
	zeroGUID        = "00000000-0000-0000-0000-000000000000"
	exchangeVersion = "0.20 (15.0.0.0)"
)

func escapeRDN(s string) string {
	if !strings.ContainsAny(s, `,+"\<>;=#`) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`,+"\<>;=#`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func samAccountName(guid string) string {
	h := strings.ToUpper(strings.ReplaceAll(guid, "-", ""))
	if len(h) > 12 {
		h = h[:12]
	}
	return "$" + h
}
