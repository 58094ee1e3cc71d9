// Package loop runs Python handlers in batches on the one thread that holds
// the GIL.
//
// Request goroutines never touch Python. They queue a Call and block; the
// queue signals an eventfd. The GIL thread runs an asyncio event loop that
// watches the fd and, when it is readable, calls Drain, which runs a whole
// batch of handlers in one go. An async handler becomes a task of that same
// event loop (started eagerly on 3.12+); when it finishes, its done-callback
// completes the Call. While the event loop waits, the GIL is released.
//
//	goroutine:  l.Call(route, req) ──push──▶ queue ──eventfd──▶ asyncio reader
//	GIL thread: Drain: take batch ─▶ pybridge.Invoke per call ─▶ wake goroutines
//
// Measured before this design (ENGINE-NOTES): a channel round trip to a
// locked thread costs 5.5 µs per request; batching pays it once per batch.
package loop
