//! Connection plumbing shared by cosockets: addresses, connecting and
//! event-driven I/O over nginx connections, name resolution with nginx's
//! resolver, keepalive pools, spare I/O buffers, and the receiveuntil matcher. No Lua here.

pub mod addr;
pub mod buffers;
pub mod conn;
pub mod downstream;
pub mod pool;
pub mod resolve;
pub mod ssl;
pub mod udp;
pub mod until;
