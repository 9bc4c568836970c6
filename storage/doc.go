// Package storage defines the persistence interfaces of Skald. Backends
// live in sub-packages (sqlite, postgres, memory); storagetest is the contract suite
// each of them must pass.
//
// Layering: storage imports nothing of Skald. Feature packages talk to
// storage only through these interfaces.
package storage
