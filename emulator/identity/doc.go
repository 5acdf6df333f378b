// Package identity is the emulator's Microsoft Entra ID: OpenID discovery, signing keys, user
// realm and the token endpoint, answering MSAL (Go, Node, .NET) and hand-written clients exactly
// as login.microsoftonline.com does (PROTOCOL.md §5), with Entra's AADSTS errors. It issues v1
// access tokens (PROTOCOL.md §4) that the Exchange side of the emulator verifies.
package identity
