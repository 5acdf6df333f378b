// Package opath parses and evaluates the OPATH filters that Exchange Online's -Filter and
// -RecipientFilter parameters accept ("RecipientTypeDetails -eq 'SharedMailbox'",
// "{ Name -like 'a*' -and -not (HiddenFromAddressListsEnabled -eq $true) }"), refusing what the
// service refuses with the service's words. A filter is evaluated against an object in memory, and
// is translated to SQLite SQL where it can be so the store filters before it pages.
package opath
