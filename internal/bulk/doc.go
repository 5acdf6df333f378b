// Package bulk is the engine of `exoctl bulk`: it runs one cmdlet template once per row of a
// CSV file, resumably. Each row's values go into the parsed template as literal arguments, never
// read as PowerShell; every row is journalled and synced to disk before its request is sent, so
// an interrupted or killed run is resumed without running any row twice. The command line (flags,
// connections, sign-in) stays in internal/cli, which opens the sessions this package uses.
package bulk
