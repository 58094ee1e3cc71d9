// Package loop runs Python handlers in batches on the one thread that holds
// the GIL, and hands their replies back to the request goroutines (package pyroute calls it).
//
// Request goroutines never touch Python, and the GIL thread never runs Go.
// A goroutine submits its call to a pybridge.Queue (C memory and an
// eventfd) and blocks. The GIL thread runs an asyncio event loop that
// watches the eventfd and drains a whole batch in C: per call, one C
// function builds the request dict, calls the handler (or starts its task,
// eagerly on 3.12+) and encodes the response. Finished calls go to a second
// eventfd, which the completer goroutine of this package reads through Go's
// netpoller to wake the waiting goroutines.
//
//	goroutine:   Call ─▶ Submit ─▶ wake fd ─▶ asyncio reader: drain (C) ─▶ done fd
//	completer:   done fd ─▶ TakeDone ─▶ wake each waiting goroutine
//
// Measured before this design (ENGINE-NOTES): a channel round trip to a
// locked thread costs 5.5 µs per request; batching pays the hand-off once
// per batch.
package loop
