// Package compliance is the emulator's Security & Compliance PowerShell endpoint (what
// Connect-IPPSSession talks to): region discovery through EXOBanner, then the same InvokeCommand
// protocol as Exchange Online, answered by an exchange.Server that holds the compliance cmdlets
// (sensitivity labels and their policies, DLP and retention policies, content searches) and
// accepts only tokens for the compliance resource.
//
// The real service answers discovery with a 302 to https://{region}.admin.protection.outlook.com:446
// and clients call https://{region}.ps.compliance.protection.outlook.com. The emulator has one
// host:port, so its region endpoint is a path prefix on it instead: discovery at
// {url}/adminapi/beta/{tenant}/EXOBanner('AutogenSession') answers 302 with
// Location: {url}/compliance/{region}/adminapi/beta/{tenant}/EXOBanner('AutogenSession')?..., and
// clients call {url}/compliance/{region}/adminapi/beta/{tenant}/InvokeCommand. A client whose
// Location host is an IP address or not an admin.protection host keeps the Location's origin and
// the path before /adminapi/ as the region base (exoctl does).
package compliance
