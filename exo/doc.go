// Package exo is exoctl's public SDK for Exchange Online: Connect signs in with any of the
// module's connection methods and returns a Session; Session.Invoke runs a cmdlet over the admin
// REST API (InvokeCommand) and yields its records page by page, with the module's retries,
// throttling and paging rules, so memory stays flat for any result size.
package exo
