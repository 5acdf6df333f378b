// Package psm1 reads the ExchangeOnline.psm1 module text the admin API serves in EXOModuleFile
// (fileContent): one PowerShell function per cmdlet the caller may run, with its parameter
// sets, mandatory and positional parameters, pipeline flags, aliases, accepted values and
// PowerShell-level types. Clients use it to complete cmdlet and parameter names and to know
// which parameters are switches; it depends on nothing but the standard library so both the
// client and the emulator can use it.
package psm1
