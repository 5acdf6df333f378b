// Package exchange is the emulator's Exchange Online admin API: the REST endpoint the
// ExchangeOnlineManagement module (v3) and exoctl call to run cmdlets (InvokeCommand, $batch,
// EXOModuleFile under /adminapi/). It checks access tokens and Exchange RBAC, binds parameters
// like PowerShell's binder, pages results through signed nextLinks and answers with the
// service's exact JSON, headers and error shapes; cmdlets live in a Registry so new ones slot in.
package exchange
