//! Real processes on loopback for the benchmarks and the end-to-end tests: a `lastmile dev` process, the edge
//! worker in workerd, and a small keep-alive HTTP/1.1 client to talk to both.

pub mod dev;
pub mod http;
pub mod workerd;

/// A free loopback port, found by binding port 0. Another process could take it before the server binds
/// it; on a test machine that race is rare and shows as a clear start-up failure.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
