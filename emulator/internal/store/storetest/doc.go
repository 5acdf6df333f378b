// Package storetest is the conformance suite of the store's object contract: Run holds any
// store.Store implementation to what the interface promises — CRUD, not-found and
// already-exists errors, case-insensitive unique keys, stable paging, filter push-down that
// agrees with in-memory evaluation, atomic updates, cascading references — and to the
// concurrency cases that lose writes or duplicate objects in a careless back end. The SQLite
// store runs it file-backed and in memory; a second back end runs it unchanged.
package storetest
