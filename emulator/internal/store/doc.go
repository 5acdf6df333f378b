// Package store is the emulator's persistent state: tenants, their directory (users, apps and
// certificates) and their Exchange Online objects. Exchange objects follow one generic
// contract (Object, ObjectStore: create, get, resolve an -Identity, list with filters and
// cursors, update in one transaction, delete with cascades), with uniqueness of names,
// aliases and addresses enforced by the database, so that concurrent cmdlets neither lose
// nor duplicate writes. Open returns the embedded SQLite implementation; package storetest
// holds any implementation to the contract.
package store
