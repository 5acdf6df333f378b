// Package catalog is the emulator's knowledge of every Exchange Online and Security &
// Compliance cmdlet: names, parameter sets, parameters, types and the products each applies to,
// generated from Microsoft's reference pages (see gen) and embedded, so every catalogued cmdlet
// binds its parameters the way PowerShell and the service do, whether or not the emulator runs
// it. It also writes the ExchangeOnline.psm1 module text the service serves in EXOModuleFile.
package catalog
