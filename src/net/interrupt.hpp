#pragma once
// SIGINT/SIGTERM -> a self-pipe that every poll() in the program also watches, so any wait
// ends promptly with net::errc::interrupted. Nothing is done inside the handler but write().

namespace smtpprobe::net {

/// Installs the handlers (idempotent). Call once from main before any I/O.
void install_interrupt_handler();
/// The read end of the self-pipe; -1 before install. Readable once a signal arrived.
int interrupt_fd() noexcept;
/// True once SIGINT or SIGTERM arrived (or request_interrupt() was called).
bool interrupted() noexcept;
/// Makes every current and future wait end as if a signal had arrived (tests, shutdown).
void request_interrupt() noexcept;

} // namespace smtpprobe::net
