// Package managedidentity serves the endpoints Azure hosts give a managed identity its tokens
// from (IMDS, App Service and Functions, Cloud Shell, Azure Arc, Service Fabric), with the
// request and answer shapes MSAL's managedidentity package expects. Each answer is an app-only
// v1 token for the identity's service principal, so Exchange authorizes it by the roles the
// directory gives that service principal, as the service does.
package managedidentity
