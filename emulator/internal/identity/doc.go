// Package identity is the emulator's Microsoft Entra ID: OpenID discovery, signing keys, user
// realm, the token endpoint, browser sign-in (authorize, sign-in and verification code pages,
// authorization code with PKCE) and the device code flow, answering MSAL (Go, Node, .NET) and
// hand-written clients exactly as login.microsoftonline.com does (PROTOCOL.md §5), with Entra's
// AADSTS errors. It issues v1 access tokens (PROTOCOL.md §4) that the Exchange side of the
// emulator verifies.
package identity
