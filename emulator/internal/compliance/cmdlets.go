package compliance

import (
	"github.com/exoctl/exoctl/emulator/internal/catalog"
	"github.com/exoctl/exoctl/emulator/internal/exchange"
)

// Cmdlets returns the registry of the Security & Compliance cmdlets the emulator implements:
// the schema cmdlets of S&C (exchange/schemas/compliance.json: labels, label policies, DLP
// policies and rules, sensitive information types, retention policies, content searches),
// over the tenant defaults of exchange/fixtures/tenant.json. Exchange cmdlets are not in it:
// they do not exist in a compliance session.
func Cmdlets() *exchange.Registry {
	r := exchange.NewRegistryFor(catalog.SecurityCompliance)
	exchange.HandleSchemas(r)
	return r
}
