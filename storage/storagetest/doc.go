// Package storagetest is the contract suite every storage.Store backend
// must pass. A backend's test calls
//
//	storagetest.Run(t, func(t *testing.T) storage.Store { ... })
//
// with a constructor that returns a fresh, empty store and registers its
// Close with t.Cleanup. Every subtest gets its own store.
//
// The suite has two halves:
//
//   - Table-driven example tests of every method of storage.Users,
//     storage.Rosters, storage.Offline and storage.Archive, including the
//     semantics the interfaces leave to the backends (see the package
//     documentation of storage/memory for the list), error values,
//     aliasing (stored values never share memory with the caller's),
//     the stamp clamp when the clock steps back and 50 concurrent
//     appenders.
//   - A model-based test (RunModel, also run by Run): seeded random
//     sequences of appends, purges, trims, expiries and queries with random
//     filters, bounds, limits and directions, applied both to the store and
//     to a reference model kept here as a plain slice filtered and sorted
//     the obvious way. Every answer must match the model's exactly. A
//     failure reports the seed and the step; set SKALD_MODEL_SEED and
//     SKALD_MODEL_OPS to replay or lengthen a run.
//
// The model knows nothing about indexes, id ranges or keyset paging, which
// is the point: it checks that the backends' clever query plans return
// what the naive definition says.
//
// AppendArchiveOnce and AppendArchiveOnceRacing are apart from Run: only
// the backends that do the archive's resend check inside the append (the
// SQL ones, OnceAppender) call them.
package storagetest
