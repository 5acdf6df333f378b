// Package format renders cmdlet output the way PowerShell's formatter shows it — Exchange's
// default table and list views, Format-Table and Format-List layouts — and as JSON, NDJSON and
// CSV for scripts. Every Writer streams: records arrive a page at a time and each page is on the
// output before the next is fetched, so any result size prints in flat memory. A type whose
// default view is a table prints a single object as that table with one row, as PowerShell
// does; -o list shows all its properties.
package format
